/** tend's exit codes, as the spec pins them. */
export const EXIT = { ok: 0, internal: 1, usage: 2, incomplete: 3, stage: 4 } as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A start-up that cannot go on: the message is for the operator, the code is tend's exit code. */
export class StartError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** A reload that changed nothing: the new manifest is invalid (400), or there is none to reload (409). */
export class ReloadError extends Error {
  constructor(
    message: string,
    /** the loader's `file:line:col: message` lines, for an invalid manifest */
    readonly issues: string[] = [],
    /** 400: the manifest is the problem; 409: there is nothing to reload */
    readonly status = 400,
  ) {
    super(message);
  }
}

/** What a second `tend up` on a state folder hears (the pid-file lock, or a control socket that answers). */
export function anotherTendMessage(pid: number, stateDir: string): string {
  const who = pid > 0 ? `another tend (pid ${pid})` : 'another tend';
  return (
    `${who} is running for this state folder (${stateDir}); stop it first ` +
    '(`tend status` shows it), or give this one another state_dir'
  );
}
