import { z } from 'zod';

/** How a shipped JSON Schema file names itself. */
export interface JsonSchemaFileIdentity {
  $id: string;
  title: string;
  description: string;
}

/**
 * The JSON Schema (draft 2020-12) of what a zod schema accepts as input, named for editors
 * (`# yaml-language-server: $schema=…`) and CI: the shipped schema of a definition file format.
 */
export function definitionJsonSchema(
  schema: z.ZodType,
  identity: JsonSchemaFileIdentity,
): Record<string, unknown> {
  return { ...z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' }), ...identity };
}

/** A JSON Schema as the repository ships it: two-space indented, ending in a newline. */
export function jsonSchemaText(schema: Record<string, unknown>): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}
