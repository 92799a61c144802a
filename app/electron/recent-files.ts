// Recent files of the desktop app (app/electron): the files and run folders the user opened,
// newest first, persisted as JSON in Electron's userData folder. The file is validated with zod
// when read (a corrupt one is set aside as <name>.bad and the list starts empty), the list is
// capped, entries whose file or folder has gone are pruned, and writes are atomic (temporary
// file + rename), so a crash never leaves a half-written list.

import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { consoleLogger, type ShellLogger } from './types.ts';

/** How many entries the list keeps. */
export const DEFAULT_MAX_RECENT = 12;
/** The file's name inside userData. */
export const RECENT_FILES_NAME = 'recent-files.json';

/** One entry: an absolute path and when it was last opened (ISO 8601). */
export interface RecentEntry {
  path: string;
  openedAt: string;
}

const entrySchema = z.strictObject({
  path: z
    .string()
    .min(1)
    .max(4096)
    .refine((p) => isAbsolute(p) && !p.includes('\0'), 'must be an absolute path'),
  openedAt: z.iso.datetime(),
});

/** The persisted file: `{ version: 1, entries: [...] }`, newest first. */
export const recentFileSchema = z.strictObject({ version: z.literal(1), entries: z.array(entrySchema).max(1000) });

/** Options of RecentFiles. */
export interface RecentFilesOptions {
  /** Cap on the number of entries (default 12). */
  max?: number;
  /** Whether a path still exists (default fs.existsSync; tests inject their own). */
  exists?: (path: string) => boolean;
  /** The clock (default Date.now). */
  now?: () => number;
  logger?: ShellLogger;
}

/** The recent-files list stored in one JSON file. */
export class RecentFiles {
  private entries: RecentEntry[] | undefined;
  private readonly max: number;
  private readonly exists: (path: string) => boolean;
  private readonly now: () => number;
  private readonly logger: ShellLogger;

  /** `file`: the JSON file (created on the first add). */
  constructor(
    readonly file: string,
    opts: RecentFilesOptions = {},
  ) {
    if (!isAbsolute(file)) throw new Error(`recent files: ${file}: must be an absolute path`);
    this.max = opts.max ?? DEFAULT_MAX_RECENT;
    if (!Number.isInteger(this.max) || this.max < 1) throw new Error(`recent files: max must be a positive integer (got ${this.max})`);
    this.exists = opts.exists ?? existsSync;
    this.now = opts.now ?? Date.now;
    this.logger = opts.logger ?? consoleLogger;
  }

  /** The entries, newest first, without those whose path no longer exists (pruned from the file too). */
  list(): RecentEntry[] {
    const all = this.load();
    const kept = all.filter((e) => this.exists(e.path));
    if (kept.length !== all.length) {
      this.entries = kept;
      this.save();
    }
    return kept.map((e) => ({ ...e }));
  }

  /** The paths, newest first (existing ones only). */
  paths(): string[] {
    return this.list().map((e) => e.path);
  }

  /** Puts `path` first (made absolute; an earlier entry of it is moved), caps the list and saves. */
  add(path: string): void {
    if (typeof path !== 'string' || path === '' || path.includes('\0')) throw new Error(`recent files: invalid path ${JSON.stringify(path)}`);
    const abs = resolve(path);
    const entries = this.load().filter((e) => e.path !== abs);
    entries.unshift({ path: abs, openedAt: new Date(this.now()).toISOString() });
    this.entries = entries.slice(0, this.max);
    this.save();
  }

  /** Removes `path` from the list (no-op when absent). */
  remove(path: string): void {
    const abs = resolve(path);
    const entries = this.load();
    const kept = entries.filter((e) => e.path !== abs);
    if (kept.length === entries.length) return;
    this.entries = kept;
    this.save();
  }

  /** Empties the list. */
  clear(): void {
    this.entries = [];
    this.save();
  }

  private load(): RecentEntry[] {
    if (this.entries) return this.entries;
    this.entries = this.read();
    return this.entries;
  }

  private read(): RecentEntry[] {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      this.logger.warn(`recent files: ${this.file}: cannot read (${(e as Error).message}); starting with an empty list`);
      return [];
    }
    let problem: string;
    try {
      const r = recentFileSchema.safeParse(JSON.parse(text));
      if (r.success) return dedupe(r.data.entries).slice(0, this.max);
      const issue = r.error.issues[0]!;
      problem = `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`;
    } catch (e) {
      problem = `not JSON (${(e as Error).message})`;
    }
    const aside = `${this.file}.bad`;
    try {
      renameSync(this.file, aside);
      this.logger.warn(`recent files: ${this.file}: ${problem}; moved it to ${basename(aside)} and started an empty list`);
    } catch (e) {
      this.logger.warn(`recent files: ${this.file}: ${problem}; could not move it aside (${(e as Error).message})`);
    }
    return [];
  }

  private save(): void {
    const text = `${JSON.stringify({ version: 1, entries: this.entries ?? [] }, null, 2)}\n`;
    const tmp = join(dirname(this.file), `.${basename(this.file)}.${process.pid}.tmp`);
    try {
      writeFileSync(tmp, text, { mode: 0o600 });
      renameSync(tmp, this.file);
    } catch (e) {
      rmSync(tmp, { force: true });
      this.logger.warn(`recent files: ${this.file}: could not save (${(e as Error).message})`);
    }
  }
}

function dedupe(entries: RecentEntry[]): RecentEntry[] {
  const seen = new Set<string>();
  return entries.filter((e) => (seen.has(e.path) ? false : (seen.add(e.path), true)));
}
