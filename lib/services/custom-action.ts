import type { EntityManager } from '@mikro-orm/core';
import type { CallContext } from '../call/call-context';
import { RequestStream } from '../call/request-stream';
import { ActionDeclaration, actionMessageKind } from '../decorators/grpc-action.decorator';
import { FieldViolation, ValidationFailedError } from '../errors/grpc-error';
import type { ProtoMessage, ProtoSerializer, ProtoSerializerClass, SerializerContext } from '../serializers/proto-serializer';
import { serializedMessage } from '../serializers/serialized-message';
import { sentRequestId } from '../idempotency/idempotent-write';
import type { Service } from './service';

/** A handler as the framework calls it: on the call's view of the service, with the request and the call. */
export type ActionHandler = (this: Service, request: unknown, context: CallContext) => unknown;

/**
 * The handler of a custom action with its serializers around it (made once per action at
 * start-up): a request serializer validates the message (each message of a request stream)
 * before the handler sees it, and hands it the validated data; a response serializer turns
 * what the handler returns (each item of a response stream) into messages. A side given as a
 * message name or inline fields passes messages as they are. An action without serializers
 * gets the handler itself.
 */
export function actionHandler(action: ActionDeclaration, handler: ActionHandler): ActionHandler {
  const request = actionMessageKind(action.request);
  const response = actionMessageKind(action.response);
  const Input = request.kind === 'serializer' ? request.serializer : undefined;
  const Output = response.kind === 'serializer' ? response.serializer : undefined;
  const empty = response.kind === 'message' && response.name === 'google.protobuf.Empty';
  if (!Input && !Output && !empty) return handler;
  return function (this: Service, message: unknown, context: CallContext): unknown {
    const input = !Input
      ? message
      : message instanceof RequestStream
        ? validatedEach(this, Input, message)
        : validated(this, Input, message);
    // A write that stores its response for retries (a request_id) stores the serialized one.
    if (Output && !action.responseStream && sentRequestId(message) !== undefined)
      context.serializeResponse = (value) => serialized(this, Output, value);
    const result = input instanceof Promise ? input.then((data) => handler.call(this, data, context)) : handler.call(this, input, context);
    if (action.responseStream) return Output ? serializedEach(this, Output, result as AsyncIterable<unknown>) : result;
    // A retry's stored response is the message already.
    if (Output) return Promise.resolve(result).then((value) => (context.isReplay(value) ? value : serialized(this, Output, value)));
    // An rpc answering Empty may return nothing.
    return Promise.resolve(result).then((value) => value ?? {});
  };
}

/** The validated data of one request message: INVALID_ARGUMENT naming the fields when it is not valid. */
async function validated(service: Service, Input: ProtoSerializerClass, message: unknown): Promise<unknown> {
  const serializer = new Input(null, { message: message as ProtoMessage, context: contextOf(service) });
  await serializer.isValid({ raiseException: true });
  return serializer.validatedData;
}

/** A request stream's messages as validated data, each checked as the handler takes it; violations name the message (`items[3].title`). */
async function* validatedEach(service: Service, Input: ProtoSerializerClass, messages: RequestStream): AsyncGenerator<unknown> {
  let index = 0;
  for await (const message of messages) {
    const serializer = new Input(null, { message, context: contextOf(service) });
    if (!(await serializer.isValid())) {
      const prefix = `items[${index}]`;
      throw new ValidationFailedError(serializer.fieldViolations.map((v: FieldViolation) => ({ ...v, field: `${prefix}.${v.field}` })));
    }
    index++;
    yield serializer.validatedData;
  }
}

/** The message of what a handler returned, nested objects and computed fields loaded. */
async function serialized(service: Service, Output: ProtoSerializerClass, value: unknown): Promise<unknown> {
  const serializer = new Output(value as object, { context: contextOf(service) });
  return serializedMessage(serializer, emOf(service));
}

/** A response stream's items as messages: an item may be one object or a list of them (sent as one batch). */
async function* serializedEach(service: Service, Output: ProtoSerializerClass, items: AsyncIterable<unknown>): AsyncGenerator<unknown> {
  for await (const item of items) {
    const many = Array.isArray(item);
    const serializer: ProtoSerializer<object> = new Output(item as object, { many, context: contextOf(service) });
    yield await serializedMessage(serializer, emOf(service));
  }
}

/** What the action's serializers receive as `context`: a model service's own, else the call's parts. */
function contextOf(service: Service): SerializerContext {
  const own = (service as { getSerializerContext?: () => SerializerContext }).getSerializerContext;
  if (own) return own.call(service);
  return {
    request: service.request,
    call: service.context,
    service,
    user: service.context.user,
    get em(): EntityManager {
      return service.em;
    },
  };
}

/** The call's EntityManager, asked for only when an entity has relations to load. */
function emOf(service: Service): () => EntityManager {
  return () => service.em;
}
