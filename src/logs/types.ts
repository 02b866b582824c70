/** `tend` marks lines that tend writes on the service's behalf, e.g. "exited with code 3". */
export type LogStream = 'stdout' | 'stderr' | 'tend';

export interface LogLine {
  /** when tend read the line, ms since the epoch */
  time: number;
  service: string;
  stream: LogStream;
  text: string;
}

/** tend's own stdout, shared by every service that echoes (docker logs) */
export interface EchoTarget {
  /** false when the line was dropped because tend's stdout is not keeping up */
  write(service: string, stream: LogStream, text: string): boolean;
}

export interface LogStats {
  /** lines seen (child output and notes) */
  lines: number;
  /** bytes written to the log file */
  bytes: number;
  /** lines that never reached the file (write errors, full disk, or written after close) */
  dropped: number;
  /** lines not echoed because tend's stdout was full */
  echoDropped: number;
  rotations: number;
  /** bytes accepted and not yet on disk */
  pending: number;
  /** times the children's output was paused because the file fell behind (a slow disk, or a very fast child) */
  pauses: number;
  /** onLine listeners that threw (counted, not fatal) */
  listenerErrors: number;
}
