/** Reading a JSON file through its zod schema: an error names the file and the first offending field. */
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';

/** `<file>: field \`a.b\`: <why>` for the first issue of a failed parse. */
export function describeIssue(file: string, error: z.ZodError, prefix = 'field'): string {
  const issue = error.issues[0];
  const field = issue.path.map(String).join('.');
  const detail = issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.map((k) => `\`${k}\``).join(', ')}` : issue.message;
  return field ? `${file}: ${prefix} \`${field}\`: ${detail}` : `${file}: ${detail}`;
}

export function parseWith<S extends z.ZodType>(file: string, schema: S, raw: unknown, prefix?: string): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new Error(describeIssue(file, parsed.error, prefix));
  return parsed.data;
}

export async function readJsonFile<S extends z.ZodType>(file: string, schema: S): Promise<z.output<S>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`${file}: cannot read (${(error as Error).message})`, { cause: error });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
  return parseWith(file, schema, raw);
}
