import type { EntityManager } from '@mikro-orm/core';

/**
 * The batches of objects a List streams, read as they are iterated; once every batch has been
 * read, the token of the next page when the page ended with rows left (a paginator's next link).
 */
export class ListBatches<T> implements AsyncIterable<T[]> {
  private token: string | undefined;

  constructor(
    /** The queryset's batches, returning where the next page starts when rows remain. */
    private readonly batches: AsyncGenerator<T[], readonly unknown[] | undefined>,
    /** Cleared once a batch has been sent: its entities need not stay in the identity map. */
    private readonly em: EntityManager,
    private readonly tokenAfter: (after: readonly unknown[]) => string,
  ) {}

  /** The next page's token: set once every batch has been read, when rows remain past the page. */
  get nextPageToken(): string | undefined {
    return this.token;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T[]> {
    try {
      for (;;) {
        const step = await this.batches.next();
        if (step.done) {
          if (step.value) this.token = this.tokenAfter(step.value);
          return;
        }
        yield step.value;
        this.em.clear();
      }
    } finally {
      // A consumer that stops early ends the reading too (its memory reservations are released).
      await this.batches.return(undefined);
    }
  }
}
