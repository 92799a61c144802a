// Named error of the run reports (app/report): a run folder or one of its files that is missing,
// unreadable or does not match the run-folder contract of docs/RUNS.md. The message names the file
// and the JSON field.

import { DataError, type DataErrorLocation } from '../../data/index.ts';

/** A run folder, or a file in it, that cannot be used: names the file and the field at fault. */
export class RunFileError extends DataError {
  constructor(detail: string, loc: DataErrorLocation = {}) {
    super(detail, loc);
    this.name = 'RunFileError';
  }
}

export { jsonPath } from '../../data/index.ts';
