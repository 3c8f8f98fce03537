import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { Client } from 'pg';

/** A PostgreSQL primary and a streaming replica of it, made for a test on this machine. */
export interface ReplicatedClusters {
  primaryPort: number;
  replicaPort: number;
  /** Runs SQL on the primary's `postgres` database. */
  onPrimary(sql: string): Promise<unknown[]>;
  /** Stops the replica's replay of the primary's changes (`pg_wal_replay_pause()`): replication lag, made visible. */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  /** Waits until the replica has replayed everything the primary has written so far. */
  caughtUp(): Promise<void>;
  /** Stops the replica at once (`pg_ctlcluster stop -m immediate`), as a crash would. */
  stopReplica(): void;
  /** Stops and drops both clusters. */
  drop(): void;
}

const run = (command: string, args: string[], asPostgres = false) =>
  asPostgres
    ? execFileSync('runuser', ['-u', 'postgres', '--', command, ...args], { stdio: 'pipe' })
    : execFileSync(command, args, { stdio: 'pipe' });

async function query(port: number, sql: string): Promise<unknown[]> {
  const client = new Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Creates two clusters of the installed PostgreSQL with Debian's tools, what an operator does
 * for a replica: `pg_createcluster` for the primary (trust auth on loopback, replication
 * allowed), `pg_basebackup -R -X stream` of it into the replica's data directory, and
 * `pg_ctlcluster start` for both. Needs root (as CI and this machine run).
 */
export async function createReplicatedClusters(name: string, primaryPort: number): Promise<ReplicatedClusters> {
  const version = String(run('pg_lsclusters', ['--no-header']))
    .trim()
    .split(/\s+/)[0]!;
  const primary = `${name}_primary`;
  const replica = `${name}_replica`;
  const replicaPort = primaryPort + 1;
  const drop = () => {
    for (const cluster of [replica, primary]) {
      try {
        run('pg_dropcluster', ['--stop', version, cluster]);
      } catch {
        // Not made, or gone already.
      }
    }
  };
  drop();
  run('pg_createcluster', [version, primary, '-p', String(primaryPort), '--', '--auth=trust']);
  const hba = `/etc/postgresql/${version}/${primary}/pg_hba.conf`;
  fs.appendFileSync(hba, 'host replication all 127.0.0.1/32 trust\n');
  run('pg_ctlcluster', [version, primary, 'start']);
  run('pg_createcluster', [version, replica, '-p', String(replicaPort)]);
  const data = `/var/lib/postgresql/${version}/${replica}`;
  fs.rmSync(data, { recursive: true, force: true });
  run('install', ['-d', '-o', 'postgres', '-g', 'postgres', '-m', '700', data]);
  run('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', data, '-R', '-X', 'stream'], true);
  fs.copyFileSync(hba, `/etc/postgresql/${version}/${replica}/pg_hba.conf`);
  run('pg_ctlcluster', [version, replica, 'start']);
  return {
    primaryPort,
    replicaPort,
    onPrimary: (sql) => query(primaryPort, sql),
    pauseReplay: async () => void (await query(replicaPort, 'select pg_wal_replay_pause()')),
    resumeReplay: async () => void (await query(replicaPort, 'select pg_wal_replay_resume()')),
    async caughtUp() {
      const [{ lsn }] = (await query(primaryPort, 'select pg_current_wal_lsn()::text as lsn')) as [{ lsn: string }];
      for (const until = Date.now() + 10_000; ;) {
        const [{ done }] = (await query(replicaPort, `select pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn as done`)) as [{ done: boolean }];
        if (done) return;
        if (Date.now() > until) throw new Error(`the replica did not replay the primary's WAL up to ${lsn} in 10 s`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    stopReplica: () => void run('pg_ctlcluster', [version, replica, 'stop', '-m', 'immediate']),
    drop,
  };
}
