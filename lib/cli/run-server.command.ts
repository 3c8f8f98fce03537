import cluster from 'node:cluster';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { withStartupHint } from '../errors/startup-hints';
import { COMMAND_LINE_ENV, CommandLineSettings, commandLineSettingsOf } from '../module/resolve-options';
import { GrpcFrameworkServer } from '../module/grpc-framework.server';
import { runWithReloader } from './dev-reloader';
import { loadExport } from './load-module';

export interface RunServerArgs {
  address: string;
  module: string;
  dev: boolean;
  workers: number;
  maxWorkers?: number;
  gracePeriodMs?: number;
  /** The web address (gRPC-Web and Connect). */
  web?: string;
  /** `--metrics`: where Prometheus scrapes. */
  metrics?: string;
  /** `--tls-cert`, `--tls-key`, `--tls-client-ca`: PEM files for both addresses. */
  tls?: { cert: string; key: string; clientCa?: string };
}

/** `grpc-framework runserver`: one process, N cluster workers on one port, or a reloading dev server. */
export async function runServerCommand(args: RunServerArgs, argv: string[]): Promise<void> {
  // For this process and the ones it starts (cluster workers, the dev server's child), which inherit it.
  passCommandLine({
    url: args.address,
    webUrl: args.web,
    metricsUrl: args.metrics,
    shutdownGracePeriodMs: args.gracePeriodMs,
    maxConcurrentStreams: args.maxWorkers,
    pageTokenSecret: commandLineSettingsOf(process.env).pageTokenSecret,
    tls: args.tls && {
      cert: path.resolve(args.tls.cert),
      key: path.resolve(args.tls.key),
      ...(args.tls.clientCa ? { clientCa: path.resolve(args.tls.clientCa) } : {}),
    },
  });
  if (args.dev) return runWithReloader([process.argv[1], ...argv.filter((arg) => arg !== '--dev')]);
  if (args.workers > 1 && cluster.isPrimary) return runCluster(args);
  await serve(args);
}

/** Starts the app in this process and closes it gracefully on SIGTERM/SIGINT. */
async function serve(args: RunServerArgs): Promise<void> {
  const app = await startApp(args.module);
  const server = app.get(GrpcFrameworkServer, { strict: false });
  const web = server.webAddress ? `, gRPC-Web and Connect at ${server.webAddress}` : '';
  // A worker tells the primary where it listens (the bound port, for an address with port 0).
  if (cluster.isWorker) process.send?.({ listening: `${server.address}${web}` } satisfies WorkerListening);
  else process.stdout.write(`Starting gRPC server at ${server.address}${web}\nQuit the server with CONTROL-C.\n`);
  let closing = false;
  const stop = (): void => {
    if (closing) return;
    closing = true;
    app.close().then(
      () => process.exit(0),
      (error: Error) => {
        process.stderr.write(`grpc-framework: shutdown failed: ${error.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

export async function startApp(moduleReference: string): Promise<INestApplicationContext> {
  const appModule = loadExport(moduleReference, '--module');
  const { NestFactory } = require('@nestjs/core') as typeof import('@nestjs/core');
  try {
    return await NestFactory.createApplicationContext(appModule as never, { abortOnError: false, logger: ['error', 'warn'] });
  } catch (error) {
    throw withStartupHint(error);
  }
}

/** N worker processes serving one port (Node's cluster shares the listening socket). */
function runCluster(args: RunServerArgs): Promise<void> {
  // One page token key for all workers: a List's next page may be asked of another worker.
  const settings = commandLineSettingsOf(process.env);
  passCommandLine({ ...settings, pageTokenSecret: settings.pageTokenSecret ?? randomBytes(32).toString('base64') });
  const workers = Array.from({ length: args.workers }, () => cluster.fork());
  // Announced once every worker listens, with the address they share (its port bound, for port 0).
  let listening = 0;
  cluster.on('message', (_worker, message: Partial<WorkerListening>) => {
    if (typeof message?.listening !== 'string' || ++listening !== workers.length) return;
    process.stdout.write(
      `Starting gRPC server at ${message.listening} with ${args.workers} worker processes\nQuit the server with CONTROL-C.\n`,
    );
  });
  let failed = false;
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    stopping = true;
    for (const worker of workers) if (!worker.isDead()) worker.process.kill(signal);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Each worker reloads its TLS certificates on SIGHUP (and when the files change).
  process.on('SIGHUP', () => {
    for (const worker of workers) if (!worker.isDead()) worker.process.kill('SIGHUP');
  });
  return new Promise((resolve) => {
    let alive = workers.length;
    cluster.on('exit', (_worker, code, signal) => {
      // A worker still starting when the server is stopped dies by the signal itself: that is a clean stop.
      const clean = code === 0 || (stopping && signal !== null);
      if (!clean) failed = true;
      if (!stopping && !clean) stop('SIGTERM'); // one worker failing to start stops the rest
      if (--alive === 0) {
        process.exitCode = failed ? 1 : 0;
        resolve();
      }
    });
  });
}

/** What a cluster worker sends the primary once it listens. */
interface WorkerListening {
  /** `host:port` of the gRPC address, then `, gRPC-Web and Connect at host:port` when it has a web address. */
  listening: string;
}

function passCommandLine(settings: CommandLineSettings): void {
  process.env[COMMAND_LINE_ENV] = JSON.stringify(settings);
}
