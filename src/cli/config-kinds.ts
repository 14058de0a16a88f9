import { CLIENT_SCHEMA, CLIENT_VALIDATOR } from '../client/client-config-schema.js';
import type { ValidatorOptions } from '../common/config/ajv-instance.js';
import type { ConfigSchema } from '../common/config/schema-types.js';
import { HOOKS_SCHEMA, HOOKS_VALIDATOR } from '../common/hooks-config-schema.js';
import { SITE_SCHEMA, SITE_VALIDATOR } from '../common/site-config-schema.js';
import { DESCRIPTION_SCHEMA, DESCRIPTION_VALIDATOR } from '../formats/environment/description-schema.js';

/** Every file kind the configuration pipeline checks: for the reference and the precompiled validators. */
export const CONFIG_KINDS: readonly { schema: ConfigSchema; validator: ValidatorOptions }[] = [
  { schema: SITE_SCHEMA, validator: SITE_VALIDATOR },
  { schema: HOOKS_SCHEMA, validator: HOOKS_VALIDATOR },
  { schema: CLIENT_SCHEMA, validator: CLIENT_VALIDATOR },
  { schema: DESCRIPTION_SCHEMA, validator: DESCRIPTION_VALIDATOR },
];
