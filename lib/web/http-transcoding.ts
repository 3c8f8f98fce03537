import * as protobuf from 'protobufjs';
import { Metadata, status, StatusObject } from '@grpc/grpc-js';
import { decodeStatusDetails, STATUS_DETAILS_KEY } from '../errors/status-details';
import type { HttpRule } from '../proto/http-rules';
import type { JsonField, JsonObject, JsonValue, ProtoJson } from '../proto/proto-json';
import type { CallPeer } from '../transport/bridged-server-call';
import type { WebRequest, WebResponse } from '../interfaces/grpc-web-options.interface';
import { PathTemplate } from './path-template';
import { invokeUnary } from './unary-web-call';
import { header, mustCloseConnection, readBody } from './web-call-request';
import { metadataOfNodeHeaders, plainHeadersOf } from './web-metadata';
import { CONNECT_HTTP_STATUS, grpcTimeoutMs } from './web-protocol';
import type { WebMethod } from './web-methods';

interface HttpRoute {
  rule: HttpRule;
  template: PathTemplate;
  target: WebMethod;
}

/** A request's route and its path variables. */
export interface HttpMatch {
  route: HttpRoute;
  variables: Map<string, string>;
}

/**
 * HTTP/JSON routes from the rpcs' `google.api.http` options (AIP-127, as grpc-gateway and
 * Envoy's transcoder read them), for unary rpcs: `GET /v1/books/{id}` becomes a call of the
 * rpc with `id` from the path, the other fields from the query string or the JSON body (as the
 * rule's `body` says), answered with the response's JSON. The call runs through the same
 * handler as over gRPC. Routes are tried in the order the protos declare them.
 */
export class HttpRoutes {
  private readonly routes: HttpRoute[] = [];
  /** Streaming rpcs whose protos give them `google.api.http` rules: not served as routes (start-up warns). */
  readonly unserved: string[] = [];

  constructor(methods: Iterable<WebMethod>, rulesByPath: ReadonlyMap<string, readonly HttpRule[]>) {
    for (const target of methods) {
      const rules = rulesByPath.get(target.path) ?? [];
      if (target.entry.type !== 'unary') {
        if (rules.length) this.unserved.push(target.path);
        continue;
      }
      for (const rule of rules) this.routes.push({ rule, template: new PathTemplate(rule.path), target });
    }
  }

  /** The HTTP methods the routes use (CORS allows them). */
  methods(): string[] {
    return [...new Set(this.routes.map((route) => route.rule.method))];
  }

  find(method: string | undefined, path: string): HttpMatch | undefined {
    for (const route of this.routes) {
      if (route.rule.method !== method) continue;
      const variables = route.template.match(path);
      if (variables) return { route, variables };
    }
    return undefined;
  }
}

/** Serves one transcoded call: builds the request message, runs the handler, answers with JSON or an error body. */
export function serveHttpCall(match: HttpMatch, request: WebRequest, response: WebResponse, maxRequestBytes: number, peer: CallPeer): void {
  const { route, variables } = match;
  const input = route.target.input;
  const body = route.rule.body ? readBody(request, maxRequestBytes) : Promise.resolve(Buffer.alloc(0));
  body.then(
    (bytes) => {
      const fail = (code: status, details: string) =>
        respond(route, request, response, undefined, { code, details, metadata: new Metadata() });
      if (bytes === undefined)
        return fail(
          status.RESOURCE_EXHAUSTED,
          `The request body is larger than the server accepts (${maxRequestBytes} bytes, maxReceiveMessageLength).`,
        );
      const json = requestJson(
        route.target.json.mapping,
        route.rule,
        input,
        variables,
        new URL(request.url ?? '/', 'http://host').searchParams,
        bytes,
      );
      if (json instanceof Error) return fail(status.INVALID_ARGUMENT, json.message);
      const message = route.target.json.valueToBinary(input, json);
      if (message instanceof Error) return fail(status.INVALID_ARGUMENT, message.message);
      const timeout = grpcTimeoutMs(header(request.headers, 'grpc-timeout'));
      if (timeout instanceof Error) return fail(status.INVALID_ARGUMENT, timeout.message);
      const deadline = timeout === undefined ? Infinity : Date.now() + timeout;
      invokeUnary(
        route.target,
        { message, metadata: metadataOfNodeHeaders(request.headers), deadline },
        peer,
        response,
        (headers, outcome, reply) => respond(route, request, response, headers, outcome, reply),
      );
    },
    () => response.destroy(),
  );
}

/**
 * The request message's JSON: the body (all of it, or one field), the path's variables and,
 * unless the body is everything, the query. A query parameter that names a field the path or
 * the body binds (or a field inside one, or one that holds one) is refused, so that the
 * resource a call acts on is always the one its path names, as proxies and audit logs see it.
 */
function requestJson(
  mapping: ProtoJson,
  rule: HttpRule,
  input: protobuf.Type,
  variables: Map<string, string>,
  query: URLSearchParams,
  body: Buffer,
): JsonObject | Error {
  let json: JsonObject = {};
  const bound: string[][] = [];
  if (rule.body) {
    let parsed: JsonValue;
    try {
      parsed = body.length ? (JSON.parse(body.toString('utf8')) as JsonValue) : {};
    } catch (error) {
      return new Error(`The request body is not valid JSON: ${(error as Error).message}`);
    }
    if (rule.body === '*') {
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        return new Error(`The request body must be a JSON object (a ${input.fullName.slice(1)}).`);
      json = parsed;
    } else {
      const fields = fieldPath(mapping, input, rule.body);
      if (fields instanceof Error) return fields;
      setField(json, fields, parsed);
      bound.push(fields.map(({ field }) => field.name));
    }
  }
  for (const [path, value] of variables) {
    const fields = fieldPath(mapping, input, path);
    if (fields instanceof Error) return fields;
    setField(json, fields, value, true);
    bound.push(fields.map(({ field }) => field.name));
  }
  if (rule.body !== '*') {
    for (const key of new Set(query.keys())) {
      const fields = fieldPath(mapping, input, key);
      if (fields instanceof Error) return fields;
      const names = fields.map(({ field }) => field.name);
      const clash = bound.find((path) => path.every((name, i) => i >= names.length || names[i] === name));
      if (clash) {
        const where = clash.join('.') === rule.body ? 'the request body' : `the path (${rule.path})`;
        return new Error(`The query parameter "${key}" sets ${names.join('.')}, which ${where} already gives; remove it from the query.`);
      }
      setField(json, fields, query.getAll(key), true);
    }
  }
  return json;
}

/** The fields a dotted path of proto or JSON names leads through, or why it leads nowhere. */
function fieldPath(mapping: ProtoJson, type: protobuf.Type, path: string): JsonField[] | Error {
  const fields: JsonField[] = [];
  let message: protobuf.Type | undefined = type;
  for (const name of path.split('.')) {
    const found: JsonField | undefined = message && mapping.fieldOf(message, name);
    if (!found) return new Error(`${(message ?? type).fullName.slice(1)} has no field "${name}" (from "${path}").`);
    fields.push(found);
    message = found.field.resolvedType instanceof protobuf.Type ? found.field.resolvedType : undefined;
  }
  return fields;
}

/** Sets the field at the end of `fields` in a request's JSON. Text from the path or query is made the JSON the field's type reads (a bool, a list). */
function setField(json: JsonObject, fields: JsonField[], value: JsonValue | string[], fromText = false): void {
  let object = json;
  for (const { jsonName } of fields.slice(0, -1)) {
    const next = object[jsonName];
    object = (typeof next === 'object' && next !== null && !Array.isArray(next) ? next : (object[jsonName] = {})) as JsonObject;
  }
  const last = fields[fields.length - 1];
  object[last.jsonName] = fromText ? textValue(last.field, ([] as string[]).concat(value as string | string[])) : value;
}

/** Query or path text as the JSON a field reads: numbers and enums stay strings (proto3 JSON reads them), bools become bools. */
function textValue(field: protobuf.Field, values: string[]): JsonValue {
  const isBool = field.type === 'bool' || field.resolvedType?.fullName === '.google.protobuf.BoolValue';
  const one = (text: string): JsonValue => (isBool && (text === 'true' || text === 'false') ? text === 'true' : text);
  return field.repeated ? values.map(one) : one(values[values.length - 1]);
}

/** The answer: the response's JSON (or its `response_body` field), or `google.rpc.Status` as JSON with the HTTP status of its code. */
function respond(
  route: HttpRoute,
  request: WebRequest,
  response: WebResponse,
  headers: Metadata | undefined,
  outcome: StatusObject,
  message?: Buffer,
): void {
  if (response.headersSent || response.destroyed) return;
  const out = headers ? plainHeadersOf(headers) : {};
  for (const [key, value] of Object.entries(plainHeadersOf(outcome.metadata, STATUS_DETAILS_KEY))) out[`grpc-trailer-${key}`] = value;
  if (mustCloseConnection(request)) out.connection = 'close';
  let body = outcome.code === status.OK && message ? responseJson(route, message) : undefined;
  if (body instanceof Error) outcome = { code: status.INTERNAL, details: body.message, metadata: new Metadata() };
  if (!(body instanceof Buffer)) body = Buffer.from(JSON.stringify(statusJson(outcome)));
  out['content-type'] = 'application/json';
  out['content-length'] = String(body.length);
  response.writeHead(outcome.code === status.OK ? 200 : (CONNECT_HTTP_STATUS[outcome.code] ?? 500), out);
  response.end(body);
}

function responseJson(route: HttpRoute, message: Buffer): Buffer | Error {
  const { output, json: webJson } = route.target;
  const field = route.rule.responseBody;
  if (!field) return webJson.toJson(output, message);
  const json = webJson.toJsonValue(output, message);
  if (json instanceof Error) return json;
  const jsonName = webJson.mapping.fieldOf(output, field)?.jsonName ?? field;
  return Buffer.from(JSON.stringify((json as JsonObject)[jsonName] ?? null));
}

/** `google.rpc.Status` in proto3 JSON (as grpc-gateway answers): the code's number, the message, the details as typed objects. */
function statusJson(outcome: StatusObject): JsonObject {
  const json: JsonObject = { code: outcome.code, message: outcome.details };
  const details = outcome.metadata.get(STATUS_DETAILS_KEY)[0];
  json.details =
    details instanceof Buffer
      ? decodeStatusDetails(details).map(({ type, debug }) => ({ '@type': `type.googleapis.com/${type}`, ...(debug ?? {}) }))
      : [];
  return json;
}
