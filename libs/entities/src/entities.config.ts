import path from 'node:path';
import { z } from 'zod';
import { configSlice } from '@choreo/config';

/** Where the entity definitions are: ENTITIES_DIR, `entities` under the working directory by default. */
export const entitiesConfig = configSlice(
  () => ({
    ENTITIES_DIR: z.string().min(1).default('entities').describe('a directory of <entity>.yaml files'),
  }),
  (env) => ({ dir: path.resolve(env.ENTITIES_DIR) }),
);
