import { ExternalContextCreator, NestContainer } from '@nestjs/core';
import {
  ENHANCER_CREATORS,
  FILTER_INTERNALS,
  PIPES_CREATOR,
  REPLACED_CONTEXT_CREATOR_METHODS,
  STREAM_ENHANCER_INTERNALS,
} from '../../lib/nest/nest-internals';

// lib/nest/nest-internals.ts overrides private methods of Nest's ExternalContextCreator; this
// fails, naming the method, when an upgrade renames or removes one.
describe('@nestjs/core internals the framework relies on', () => {
  it.each(REPLACED_CONTEXT_CREATOR_METHODS)('ExternalContextCreator.prototype.%s is still a method', (name) => {
    expect(typeof (ExternalContextCreator.prototype as unknown as Record<string, unknown>)[name]).toBe('function');
  });

  it.each([...ENHANCER_CREATORS, FILTER_INTERNALS.creator, PIPES_CREATOR])(
    'an ExternalContextCreator still has its %s with a create() method',
    (name) => {
      const creator = ExternalContextCreator.fromContainer(new NestContainer());
      expect(typeof (creator as unknown as Record<string, { create?: unknown }>)[name]?.create).toBe('function');
    },
  );

  it(`an ExternalContextCreator still has its ${STREAM_ENHANCER_INTERNALS.consumer} with an intercept() method`, () => {
    const creator = ExternalContextCreator.fromContainer(new NestContainer());
    expect(typeof (creator as unknown as Record<string, { intercept?: unknown }>)[STREAM_ENHANCER_INTERNALS.consumer]?.intercept).toBe(
      'function',
    );
  });

  it('an ExternalContextCreator still makes exception handlers that keep their filters in a private filters array', () => {
    const creator = ExternalContextCreator.fromContainer(new NestContainer()) as unknown as Record<
      string,
      { create(...args: unknown[]): Record<string, unknown> }
    >;
    class Controller {
      handle(): void {}
    }
    const handler = creator[FILTER_INTERNALS.creator].create(new Controller(), Controller.prototype.handle, 'module');
    expect(Array.isArray(handler[FILTER_INTERNALS.filters])).toBe(true);
    expect(typeof handler.invokeCustomFilters).toBe('function');
  });
});
