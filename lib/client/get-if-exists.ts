/** Reads that treat "not found" as an answer rather than an error. */
import { isNotFound } from '../machinery/index.js';

/** The object as the API server has it now, or undefined if there is none of that name. */
export async function getIfExists<T>(client: { get(name: string): Promise<T> }, name: string): Promise<T | undefined> {
  try {
    return await client.get(name);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
