import type { z } from 'zod';
import { ValidationFailedError } from '../errors/rampart-error.js';

/** Parses a request part with the zod schema its route documents, or answers 400 naming the fields. */
export function parseRequest<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new ValidationFailedError(
      result.error.issues.map((issue) => ({
        path: issue.path.map(String).join('.') || '(body)',
        message: issue.message,
      })),
    );
  }
  return result.data;
}
