/** The message of the error `run` throws, which must be an instance of `type`; fails the test when it throws nothing. */
export function thrownMessage(run: () => unknown, type: abstract new (...args: never[]) => Error): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return (error as Error).message;
  }
  throw new Error('nothing was thrown');
}
