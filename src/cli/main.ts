#!/usr/bin/env node
/**
 * The command line: parse, call a library function or the control API, print. Heavy modules are imported
 * inside each action so that `tend status` and `tend --help` start fast.
 */
// first: V8 settings of a long-running `tend up` must be set before anything else allocates
import './v8-flags.js';
import { Argument, Command, Option } from 'commander';
import { VERSION } from '../runtime/version.js';

// `tend schema | head` closes the pipe early: that is the reader's choice, not an error of tend's. `tend up`
// and `tend run` are another matter: their stdout and stderr only copy the logs and events, and a reader that
// went away (a log collector, `tend up | head`, a restarted journald) must not take the services down with
// it, so there the echo and the sinks stop writing to a broken stream and supervision goes on.
let supervising = false;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (supervising) return;
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const supervise = () => {
  supervising = true;
  process.stderr.on('error', () => {});
};

const program = new Command();
program
  .name('tend')
  .description('Supervises the services of one container or VM: processes, lifecycle, config, discovery.')
  .version(VERSION, '-v, --version')
  .showHelpAfterError('(run `tend help` for the list of commands)')
  .exitOverride((err) => {
    // commander exits 1 on usage errors; the contract says 2
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) {
      process.exit(0);
    }
    process.exit(2);
  });

const manifestOption = () =>
  new Option('-f, --file <file>', 'the manifest (default: ./tend.yaml, or $TEND_FILE)').env('TEND_FILE');

program
  .command('up')
  .description('run the stack in the foreground until SIGTERM/SIGINT')
  .addOption(manifestOption())
  .option('--only <services>', 'enable just these services (comma-separated; or $TEND_ONLY)')
  .option('--http <addr>', 'also serve the API, metrics and dashboard on this TCP address')
  .option('--kv <url>', 'KV store URL (file:DIR, etcd://HOST:PORT, consul://HOST:PORT; or $TEND_KV)')
  .action(async (opts) => {
    supervise();
    const { upCommand } = await import('./commands.js');
    process.exitCode = await upCommand(opts);
  });

program
  .command('run')
  .description('supervise one command, no manifest: tend run [--name N] [--restart P] -- CMD ARGS…')
  .option('--name <name>', 'service name (default: the command’s base name)')
  .addOption(
    new Option('--restart <policy>', 'restart policy')
      .choices(['always', 'on-failure', 'never'])
      .default('always'),
  )
  .option(
    '--max-failures <n>',
    'runs shorter than 1s within 10s that end tend (default 5; 0 = never give up)',
  )
  .option('--reset-after <duration>', 'uptime after which the backoff starts over (default 10s)')
  .option('--backoff-max <duration>', 'longest delay between restarts (default 30s)')
  .argument('<command...>', 'the command and its arguments')
  .action(async (argv: string[], opts) => {
    supervise();
    const { runCommand } = await import('./commands.js');
    process.exitCode = await runCommand(argv, opts);
  });

program
  .command('check')
  .description('validate the manifest and print the plan')
  .addOption(manifestOption())
  .option('--only <services>', 'enable just these services')
  .option('--json', 'print the plan as JSON')
  .action(async (opts) => {
    const { checkCommand } = await import('./commands.js');
    process.exitCode = await checkCommand(opts);
  });

program
  .command('schema')
  .description('print the JSON Schema of tend.yaml')
  .action(async () => {
    const { schemaCommand } = await import('./commands.js');
    process.exitCode = await schemaCommand();
  });

// `tend up` and `tend run` start faster without the other commands' definitions (and their modules):
// commander dispatches on the first word, and their own flags and help are all they parse.
const first = process.argv[2];
if (first !== 'up' && first !== 'run') {
  const [client, render, exp, fleet] = await Promise.all([
    import('./client.js'),
    import('./render.js'),
    import('./export.js'),
    import('./fleet.js'),
  ]);
  client.registerClientCommands(program);
  render.registerRenderCommands(program);
  exp.registerExportCommands(program);
  fleet.registerFleetCommand(program);
}

program
  .command('completion')
  .description('print a shell completion script: source <(tend completion bash)')
  .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
  .action(async (shell: 'bash' | 'zsh' | 'fish') => {
    const { completionScript } = await import('./completion.js');
    const names = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
    process.stdout.write(completionScript(shell, [...names, 'help'].sort()));
  });

// An unknown command: commander's own suggestion is too eager (`tend top` offered `stop`); ours asks for a
// closer match (see suggest.ts) and names the command that lists the others.
program.showSuggestionAfterError(false);
if (first !== undefined && !first.startsWith('-') && first !== 'help') {
  const known = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
  if (!known.includes(first)) {
    const { closest } = await import('./suggest.js');
    const guess = closest(first, known);
    process.stderr.write(
      `tend: unknown command ${JSON.stringify(first)}${guess ? `; did you mean \`tend ${guess}\`?` : ''}\n(run \`tend help\` for the list of commands)\n`,
    );
    process.exit(2);
  }
}

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`tend: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
