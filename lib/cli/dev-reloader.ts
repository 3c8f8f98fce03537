import { spawn, ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { watch } from 'chokidar';

/** Files whose change restarts the server. */
const SOURCE_FILE = /\.(ts|js|json|proto)$/;
/** Folders never watched. */
const IGNORED_FOLDER = /(^|[\\/])(node_modules|dist|\.git)([\\/]|$)/;
/** A restart waits until no file has changed for this long, so a burst of saves restarts once. */
const QUIET_MS = 300;
/** A file counts as written once its size has not changed for this long (editors write in pieces). */
const WRITE_SETTLED_MS = 150;

/**
 * `runserver --dev`: runs the server in a child process and restarts it when a source or proto
 * file under the working directory changes. chokidar watches folders, so files saved by
 * rename (atomic-save editors, `sed -i`, `git checkout`) stay watched; a restart waits until
 * the file has stopped growing and no other file changed for a moment.
 */
export function runWithReloader(childArgs: string[], cwd = process.cwd()): Promise<void> {
  let child: ChildProcess | undefined;
  let restartTimer: NodeJS.Timeout | undefined;
  let changed: string | undefined;
  const start = (): void => {
    child = spawn(process.execPath, childArgs, { stdio: 'inherit', env: process.env });
  };
  const restart = (): void => {
    process.stdout.write(`${changed} changed, restarting.\n`);
    const old = child;
    if (old && old.exitCode === null && old.signalCode === null) {
      old.once('exit', start);
      old.kill('SIGTERM');
    } else start();
  };
  const watcher = watch(cwd, {
    ignoreInitial: true,
    ignored: (file, stats) => IGNORED_FOLDER.test(path.relative(cwd, file)) || (!!stats?.isFile() && !SOURCE_FILE.test(file)),
    awaitWriteFinish: { stabilityThreshold: WRITE_SETTLED_MS, pollInterval: 50 },
  });
  watcher.on('all', (event, file) => {
    if (event !== 'add' && event !== 'change' && event !== 'unlink') return;
    if (!SOURCE_FILE.test(file)) return;
    changed = path.relative(cwd, file);
    clearTimeout(restartTimer);
    restartTimer = setTimeout(restart, QUIET_MS);
  });
  start();
  return new Promise((resolve) => {
    const stop = (): void => {
      void watcher.close();
      clearTimeout(restartTimer);
      if (child && child.exitCode === null && child.signalCode === null) {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      } else resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
