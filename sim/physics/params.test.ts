// Tests of the parameter table (params.ts): MODEL_PARAMS, Model accessors, validate(), ModelData,
// builder defaults and the scene schema all follow the table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelBuilder, BodyDesc, MODEL_PARAMS, PARAMS, groupDefaults, groupParams, modelData, paramSpec, parseScene, SceneSchema } from './index.ts';
import { ModelError } from './errors.ts';

function model() {
  const b = new ModelBuilder().setGround({ mu: 0.3 });
  b.addParticle([0, 0, 1], [0, 0, 0], 1, 0.1);
  b.addBody(BodyDesc.sphere(0.2).setMass(2).setTranslation(1, 0, 1));
  return b.finalize();
}

test('params: MODEL_PARAMS is the table order; every entry has an accessor, a shape check and a ModelData view', () => {
  assert.deepEqual(MODEL_PARAMS, Object.keys(PARAMS));
  const m = model();
  const md = modelData(m) as unknown as Record<string, unknown>;
  for (const k of MODEL_PARAMS) {
    assert.equal(m[k], m.params[k], k);
    assert.deepEqual(m[k].shape, PARAMS[k].shape(m), k);
    const v = md[k];
    if (m[k].shape.length === 0) assert.equal(v, m[k].data[0], k);
    else assert.equal(v, m[k].data, k);
  }
  assert.equal(md.groundMu, 0.3);
});

test('params: validate() applies each entry constraint and names the field and index', () => {
  const m = model();
  for (const k of MODEL_PARAMS) {
    const spec = PARAMS[k];
    if (m[k].size === 0) continue;
    const bad = spec.constraint === 'positive' ? 0 : spec.constraint === 'nonNegative' ? -1 : Number.NaN;
    const t = m[k].clone();
    t.data[0] = bad;
    assert.throws(
      () => m.with({ [k]: t }).validate(),
      (e: unknown) => e instanceof ModelError && e.field === `${k}[0]`,
      k,
    );
  }
});

test('params: builder defaults and the scene groups come from the table', () => {
  const d = groupDefaults('ground');
  assert.deepEqual(d, { ke: PARAMS.groundKe.default, kd: PARAMS.groundKd.default, kf: PARAMS.groundKf.default, mu: PARAMS.groundMu.default });
  const m = new ModelBuilder().finalize();
  for (const [f, k] of groupParams('ground')) assert.equal(m[k].data[0], d[f], f);
  for (const [f, k] of groupParams('bodyContact')) assert.equal(m[k].data[0], paramSpec(k).default, f);
  assert.deepEqual(Array.from(m.gravity.data), PARAMS.gravity.default);
  // each ground field of the table is a scene key with the table's constraint
  const fields = groupParams('ground').map(([f]) => f);
  assert.deepEqual(fields, ['ke', 'kd', 'kf', 'mu']);
  for (const f of fields) assert.throws(() => parseScene({ ground: { [f]: -1 } }), new RegExp(`ground\\.${f}`));
  assert.throws(() => parseScene({ bodyContact: { mu: -1 } }), /bodyContact\.mu/);
  assert.ok(SceneSchema.safeParse({ ground: { mu: 0.2 }, bodyContact: { ke: 5 } }).success);
});
