/**
 * A programming or configuration mistake found at start-up (or on first use):
 * the message names the class, the option and the fix.
 *
 * @publicApi
 */
export class ImproperlyConfiguredError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImproperlyConfiguredError';
  }
}
