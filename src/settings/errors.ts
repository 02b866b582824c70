/** One failing value, already phrased for an operator: `settings.db.port: must be integer (got "eighty")`. */
export interface SettingsIssue {
  /** `settings.db.port`, `settings.servers.0.host`, `settings["a.b"]` */
  path: string;
  /** `must be integer (got "eighty")` */
  message: string;
  /** where the bad value came from when it can be told: `$CFG`, a file path, `kv settings/db/port`, `defaults` */
  source?: string;
}

/**
 * Everything that makes settings unusable: a missing or unreadable file, bad JSON/YAML, a schema that does not
 * compile, values that do not match the schema. The message alone is enough to fix the problem.
 */
export class SettingsError extends Error {
  readonly issues: SettingsIssue[];

  constructor(message: string, issues: SettingsIssue[] = []) {
    super(message);
    this.name = 'SettingsError';
    this.issues = issues;
  }
}

export function formatIssue(issue: SettingsIssue): string {
  return `${issue.path}: ${issue.message}${issue.source ? ` — from ${issue.source}` : ''}`;
}
