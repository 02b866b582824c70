/** Errors of a manifest, each with the place it comes from, so editors and people can jump to it. */

export interface ManifestIssue {
  /** the manifest file as given (or `<command line>` style labels for errors that have no file) */
  file: string;
  /** 1-based; 0 when the error has no position in the file (e.g. the file cannot be read) */
  line: number;
  /** 1-based; 0 when the error has no position */
  column: number;
  message: string;
}

/** `file:line:column: message`, or `file: message` when there is no position. */
export function formatIssue(i: ManifestIssue): string {
  return i.line > 0 ? `${i.file}:${i.line}:${i.column}: ${i.message}` : `${i.file}: ${i.message}`;
}

/** A manifest that cannot become a Plan. `errors` lists every problem found, in file order. */
export class ManifestError extends Error {
  override name = 'ManifestError';
  readonly errors: ManifestIssue[];

  constructor(errors: ManifestIssue[]) {
    super(errors.map(formatIssue).join('\n'));
    this.errors = errors;
  }
}
