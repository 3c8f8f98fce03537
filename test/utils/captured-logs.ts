import { Logger } from '@nestjs/common';

/**
 * Captures what the server logs as errors while `work` runs (instead of printing it), so a
 * test can assert the log of an expected failure.
 */
export async function serverErrorsDuring(work: () => Promise<unknown>): Promise<string[]> {
  const logged: string[] = [];
  const spy = jest.spyOn(Logger.prototype, 'error').mockImplementation((...parts: unknown[]) => {
    logged.push(parts.map(String).join('\n'));
  });
  try {
    await work();
  } finally {
    spy.mockRestore();
  }
  return logged;
}
