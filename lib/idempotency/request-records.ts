import type { EntityManager, EntityMetadata } from '@mikro-orm/core';
import { ImproperlyConfiguredError } from '../errors/improperly-configured.error';
import { GrpcRequestRecord } from './request-record.entity';
import type { RequestRecordStore, StoredResponse } from '../call/request-record-store';
import { nativePlaceholder, qualifiedTable } from '../orm/sql-text';
import { PreparableQuery, runQuery } from '../orm/row-queries';

interface RecordStatements {
  find: PreparableQuery;
  insert: PreparableQuery;
  deleteExpired: string;
}

interface SqlConnection {
  execute(sql: string, params: unknown[], method: 'all' | 'run', ctx?: unknown): Promise<unknown>;
}

/**
 * The `grpc_framework_request` table: finds a request's stored response, stores one inside the
 * write's own transaction, and deletes those past the retention period. Statements are plain
 * SQL that SQLite and PostgreSQL both run (an upsert that only replaces an expired record),
 * built once from MikroORM's metadata, so a naming strategy's column names are used.
 */
export class RequestRecords implements RequestRecordStore {
  private statements?: RecordStatements;

  constructor(
    /** How long a response is kept for retries, in milliseconds. */
    readonly retentionMs: number,
  ) {}

  /** The live record of `requestId` for `rpc`, read from the primary. */
  async find(em: EntityManager, rpc: string, requestId: string): Promise<StoredResponse | undefined> {
    // A prepared statement on the primary (outside a transaction): every write with an id asks first.
    const rows = await runQuery(em, this.statementsFor(em).find, [rpc, requestId, Date.now() - this.retentionMs], 'write');
    const row = rows[0] as { request_hash: string; response: Buffer | Uint8Array } | undefined;
    return row && { requestHash: row.request_hash, response: Buffer.from(row.response) };
  }

  /**
   * Stores a response in the transaction of `em`; false when a live record of the id is there
   * already (another call with it committed first: PostgreSQL waits for that call's transaction
   * before answering, SQLite's writer lock does the same).
   */
  async store(em: EntityManager, rpc: string, requestId: string, requestHash: string, response: Buffer): Promise<boolean> {
    const now = Date.now();
    const rows = await runQuery(
      em,
      this.statementsFor(em).insert,
      [rpc, requestId, requestHash, response, now, now - this.retentionMs],
      'write',
    );
    return rows.length > 0;
  }

  /** Deletes the records past the retention period; resolves with how many. */
  async deleteExpired(em: EntityManager): Promise<number> {
    const result = (await this.connection(em).execute(this.statementsFor(em).deleteExpired, [Date.now() - this.retentionMs], 'run')) as {
      affectedRows?: number;
    };
    return result.affectedRows ?? 0;
  }

  private connection(em: EntityManager): SqlConnection {
    return em.getConnection('write') as unknown as SqlConnection;
  }

  private statementsFor(em: EntityManager): RecordStatements {
    if (this.statements) return this.statements;
    const meta = recordMetadataOf(em);
    const column = (property: keyof GrpcRequestRecord) => quoted(em, meta.properties[property].fieldNames[0]!);
    const [table, rpc, id, hash, response, created] = [
      qualifiedTable(em, meta as EntityMetadata),
      column('rpc'),
      column('requestId'),
      column('requestHash'),
      column('response'),
      column('createdAt'),
    ];
    const find = `select ${hash}, ${response} from ${table} where ${rpc} = ? and ${id} = ? and ${created} >= ?`;
    // Inserts the record, or replaces an expired one; a live one stays and no row is returned.
    const insert =
      `insert into ${table} (${rpc}, ${id}, ${hash}, ${response}, ${created}) values (?, ?, ?, ?, ?) ` +
      `on conflict (${rpc}, ${id}) do update set ${hash} = excluded.${hash}, ${response} = excluded.${response}, ${created} = excluded.${created} ` +
      `where ${table}.${created} < ? returning ${rpc}`;
    this.statements = {
      find: preparable(em, find),
      insert: preparable(em, insert),
      deleteExpired: `delete from ${table} where ${created} < ?`,
    };
    return this.statements;
  }
}

/** The record's metadata, or the fix when the application did not register it. */
export function recordMetadataOf(em: EntityManager): EntityMetadata<GrpcRequestRecord> {
  const metadata = em.getMetadata();
  if (!metadata.has(GrpcRequestRecord.meta.className)) {
    throw new ImproperlyConfiguredError(
      "A write rpc takes a request_id (AIP-155) but GrpcRequestRecord is not one of MikroORM's entities: add it to `entities` " +
        "(import { GrpcRequestRecord } from 'nestjs-grpc-framework') and create its table (the schema generator or a migration).",
    );
  }
  return metadata.get(GrpcRequestRecord.meta.className) as EntityMetadata<GrpcRequestRecord>;
}

function quoted(em: EntityManager, name: string): string {
  return em.getPlatform().quoteIdentifier(name);
}

/** A statement in MikroORM's placeholders and the driver's own, for `runQuery`. */
function preparable(em: EntityManager, sql: string): PreparableQuery {
  const placeholder = nativePlaceholder(em);
  let index = 0;
  return { sql, nativeSql: sql.replace(/\?/g, () => placeholder(index++)) };
}
