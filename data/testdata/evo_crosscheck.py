# Independent numpy/scipy re-implementation of evo's definitions (file_interface, sync, geometry.umeyama,
# PosePath3D.align, metrics.APE/RPE, filters) used to cross-check Impulse's TypeScript numbers
# (data/, tests only; not part of the library). Regenerate the pinned values with
#   python3 data/testdata/evo_crosscheck.py data/testdata/evo-crosscheck.json
# (numpy 2.4, scipy 1.17: Rotation.from_matrix orthogonalises non-orthonormal KITTI matrices).
import os, sys, json, copy
import numpy as np
from scipy.spatial.transform import Rotation
D=os.path.join(os.path.dirname(os.path.abspath(__file__)),'..','..','..','shared','data','trajectories')+'/'
def quat_matrix(q):  # wxyz, evo transformations.quaternion_matrix
    q = np.array(q, dtype=np.float64, copy=True); n = np.dot(q, q)
    q *= np.sqrt(2.0 / n); q = np.outer(q, q)
    return np.array([[1.0-q[2,2]-q[3,3], q[1,2]-q[3,0], q[1,3]+q[2,0], 0.0],[q[1,2]+q[3,0], 1.0-q[1,1]-q[3,3], q[2,3]-q[1,0], 0.0],[q[1,3]-q[2,0], q[2,3]+q[1,0], 1.0-q[1,1]-q[2,2], 0.0],[0,0,0,1.0]])
def se3(r,t):
    m=np.eye(4); m[:3,:3]=r; m[:3,3]=t; return m
def read_tum(f):
    m=np.loadtxt(D+f, comments='#'); ts=m[:,0]; xyz=m[:,1:4]; q=np.roll(m[:,4:],1,axis=1)
    return ts,[se3(quat_matrix(qq)[:3,:3],p) for p,qq in zip(xyz,q)]
def read_euroc(f):
    m=np.loadtxt(D+f, delimiter=',', comments='#'); ts=m[:,0]/1e9
    return ts,[se3(quat_matrix(qq)[:3,:3],p) for p,qq in zip(m[:,1:4],m[:,4:8])]
def read_kitti(f):
    m=np.loadtxt(D+f); return None,[np.vstack([r.reshape(3,4),[0,0,0,1]]) for r in m]
def matching(s1,s2,md,off):
    i1=[];i2=[]; s2=s2+off
    for i,s in enumerate(s1):
        d=np.abs(s2-s); j=int(np.argmin(d))
        if d[j]<=md: i1.append(i); i2.append(j)
    return i1,i2
def associate(r,e,md=0.01,off=0.0):
    (tr,pr),(te,pe)=r,e
    snd=len(te)>len(tr)
    if snd: i_s,i_l=matching(tr,te,md,off); return (tr[i_s],[pr[i] for i in i_s]),(te[i_l],[pe[i] for i in i_l])
    i_s,i_l=matching(te,tr,md,-off); return (tr[i_l],[pr[i] for i in i_l]),(te[i_s],[pe[i] for i in i_s])
def umeyama(x,y,ws):
    m,n=x.shape; mx=x.mean(axis=1); my=y.mean(axis=1)
    sx=1.0/n*(np.linalg.norm(x-mx[:,None])**2)
    C=np.zeros((m,m))
    for i in range(n): C+=np.outer(y[:,i]-my, x[:,i]-mx)
    C=C/n; u,d,v=np.linalg.svd(C); s=np.eye(m)
    if np.linalg.det(u)*np.linalg.det(v)<0: s[m-1,m-1]=-1
    R=u.dot(s).dot(v); c=1/sx*np.trace(np.diag(d).dot(s)) if ws else 1.0
    return R, my-c*R.dot(mx), c
def align(pe,pr,mode,n=-1):
    if mode=='none': return pe,1.0
    X=np.array([p[:3,3] for p in pe]).T; Y=np.array([p[:3,3] for p in pr]).T
    if n!=-1: X=X[:,:n]; Y=Y[:,:n]
    R,t,c=umeyama(X,Y,mode!='se3')
    out=[p.copy() for p in pe]
    if mode in ('sim3','scale'):
        for p in out: p[:3,3]*=c
    if mode!='scale': T=se3(R,t); out=[T@p for p in out]
    return out,c
def inv(p):
    r=p[:3,:3].T; return se3(r,-r.dot(p[:3,3]))
def angle(r): return float(np.linalg.norm(Rotation.from_matrix(r).as_rotvec()))
def err(E,rel):
    if rel=='trans': return np.linalg.norm(E[:3,3])
    if rel=='rot-rad': return abs(angle(E[:3,:3]))
    if rel=='rot-deg': return abs(angle(E[:3,:3]))*180/np.pi
    if rel=='rot': return np.linalg.norm(E[:3,:3]-np.eye(3))
    if rel=='full': return np.linalg.norm(E-np.eye(4))
def ape(pr,pe,rel):
    if rel=='trans': return np.array([np.linalg.norm(a[:3,3]-b[:3,3]) for a,b in zip(pe,pr)])
    return np.array([err(inv(e)@r,rel) for r,e in zip(pr,pe)])
def pairs(poses,delta,unit,tol_rel=0.1,all_pairs=False):
    n=len(poses); tol=delta*tol_rel
    if unit=='f':
        if all_pairs: return [(i,i+delta) for i in range(n) if i+delta<n]
        ids=np.arange(0,n,delta); return list(zip(ids,ids[1:]))
    if unit=='m':
        if all_pairs:
            pos=np.array([p[:3,3] for p in poses]); dist=np.concatenate(([0],np.cumsum(np.linalg.norm(pos[:-1]-pos[1:],axis=1)))); out=[]
            for i in range(dist.size-1):
                off=i+1; dh=dist[off:]-dist[i]; c=int(np.argmin(np.abs(dh-delta)))
                if np.abs(dh[c]-delta)>tol: continue
                out.append((i,c+off))
            return out
        ids=[]; prev=poses[0]; cur=0.0
        for i,p in enumerate(poses):
            cur+=float(np.linalg.norm(p[:3,3]-prev[:3,3])); prev=p
            if cur>=delta: ids.append(i); cur=0.0
        return list(zip(ids,ids[1:]))
    deg=unit=='deg'; d=np.deg2rad(delta) if deg else delta
    da=[angle(a[:3,:3].T@b[:3,:3]) for a,b in zip(poses,poses[1:])]
    acc=0.0; st=0; out=[]
    for i,c in enumerate(da):
        acc+=c
        if acc>=d: out.append((st,i+1)); acc=0.0; st=i+1
    return out
def rpe(pr,pe,rel,delta,unit,all_pairs=False):
    ps=pairs(pe,delta,unit,0.1,all_pairs)
    return np.array([err(inv(inv(pr[i])@pr[j])@(inv(pe[i])@pe[j]),rel) for i,j in ps]), len(ps)
def stats(e):
    return dict(rmse=float(np.sqrt(np.mean(e**2))),mean=float(np.mean(e)),median=float(np.median(e)),std=float(np.std(e)),min=float(np.min(e)),max=float(np.max(e)),sse=float(np.sum(e**2)),n=int(len(e)))
out={}
gt=read_kitti('KITTI_00_gt.txt')[1]
for est in ['ORB','SPTAM']:
    pe=read_kitti(f'KITTI_00_{est}.txt')[1]
    for mode in ['none','se3','sim3','scale']:
        a,c=align(pe,gt,mode)
        for rel in ['trans','rot-deg','full']:
            out[f'kitti_{est}_ape_{mode}_{rel}']=stats(ape(gt,a,rel))|{'scale':c}
    out[f'kitti_{est}_ape_se3n100_trans']=stats(ape(gt,align(pe,gt,'se3',100)[0],'trans'))
    for rel in ['trans','rot-deg']:
        e,n=rpe(gt,pe,rel,1,'f'); out[f'kitti_{est}_rpe_1f_{rel}']=stats(e)
    e,n=rpe(gt,pe,'trans',100,'m'); out[f'kitti_{est}_rpe_100m_trans']=stats(e)
    e,n=rpe(gt,pe,'trans',100,'m',True); out[f'kitti_{est}_rpe_100m_all_trans']=stats(e)
    e,n=rpe(gt,pe,'rot-deg',10,'deg'); out[f'kitti_{est}_rpe_10deg_rotdeg']=stats(e)
    e,n=rpe(gt,pe,'trans',10,'f',True); out[f'kitti_{est}_rpe_10f_all_trans']=stats(e)
for name,rf,ef,reader in [('fr2',('fr2_desk_groundtruth.txt'),'fr2_desk_ORB.txt',read_tum),('fr1',('freiburg1_xyz-groundtruth.txt'),'freiburg1_xyz-rgbdslam.txt',read_tum),('v102','V102_groundtruth.csv','V102.txt',None)]:
    r=(reader or read_euroc)(rf); e=read_tum(ef)
    r2,e2=associate(r,e)
    out[f'{name}_matches']=len(r2[0])
    for mode in ['none','se3','sim3']:
        a,c=align(e2[1],r2[1],mode)
        for rel in ['trans','rot-deg','rot-rad','rot','full']:
            out[f'{name}_ape_{mode}_{rel}']=stats(ape(r2[1],a,rel))|{'scale':c}
    for rel in ['trans','rot-deg']:
        ee,n=rpe(r2[1],e2[1],rel,1,'f'); out[f'{name}_rpe_1f_{rel}']=stats(ee)
    ee,n=rpe(r2[1],e2[1],'trans',0.5,'m'); out[f'{name}_rpe_0.5m_trans']=stats(ee)
    r3,e3=associate(r,e,0.02,0.005); out[f'{name}_matches_0.02_0.005']=len(r3[0])
    out[f'{name}_ape_se3_trans_off']=stats(ape(r3[1],align(e3[1],r3[1],'se3')[0],'trans'))
json.dump(out,open(sys.argv[1] if len(sys.argv)>1 else 'evo-crosscheck.json','w'),indent=1)
print(len(out))
