import { Controller, Get, Inject, Param } from '@nestjs/common';
import { AllowAccessTokens, SERVICE_CONFIG } from '@rampart/platform';
import type { IdentityConfig } from '../config/identity.config.js';
import { SCIM_SCOPE } from './scim-resources.controller.js';
import { resourceNotFound } from './scim.errors.js';
import { LIST_RESPONSE_SCHEMA, MAX_PAGE_SIZE } from './scim.resource.js';
import { GROUP_SCHEMA, USER_SCHEMA } from './scim.schemas.js';

const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';
const RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const CONFIG_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';

interface AttributeSpec {
  name: string;
  type: 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime';
  multiValued?: boolean;
  required?: boolean;
  caseExact?: boolean;
  mutability?: 'readOnly' | 'readWrite' | 'writeOnly' | 'immutable';
  returned?: 'always' | 'never' | 'default';
  uniqueness?: 'none' | 'server' | 'global';
  subAttributes?: AttributeSpec[];
  referenceTypes?: string[];
  description: string;
}

/** RFC 7643 section 7 attribute definitions, with the RFC's defaults filled in. */
function attribute(spec: AttributeSpec): Record<string, unknown> {
  return {
    name: spec.name,
    type: spec.type,
    multiValued: spec.multiValued ?? false,
    description: spec.description,
    required: spec.required ?? false,
    caseExact: spec.caseExact ?? false,
    mutability: spec.mutability ?? 'readWrite',
    returned: spec.returned ?? 'default',
    uniqueness: spec.uniqueness ?? 'none',
    ...(spec.referenceTypes ? { referenceTypes: spec.referenceTypes } : {}),
    ...(spec.subAttributes ? { subAttributes: spec.subAttributes.map(attribute) } : {}),
  };
}

const USER_ATTRIBUTES: AttributeSpec[] = [
  {
    name: 'userName',
    type: 'string',
    required: true,
    uniqueness: 'server',
    description:
      'Sign-in name: 1 to 64 letters, digits, ".", "_", "-", "@" or "+", unique ignoring case.',
  },
  {
    name: 'name',
    type: 'complex',
    description: "The parts of the user's name.",
    subAttributes: [
      { name: 'givenName', type: 'string', description: 'Given name (at most 256 characters).' },
      { name: 'familyName', type: 'string', description: 'Family name (at most 256 characters).' },
    ],
  },
  { name: 'displayName', type: 'string', description: 'Name to display (at most 256 characters).' },
  {
    name: 'emails',
    type: 'complex',
    multiValued: true,
    required: true,
    description:
      "The user's e-mail address: the primary one (or the first) is stored, counts as verified and is unique.",
    subAttributes: [
      { name: 'value', type: 'string', description: 'The address.' },
      { name: 'type', type: 'string', description: 'Always "work" when read.' },
      { name: 'primary', type: 'boolean', description: 'Always true when read.' },
    ],
  },
  {
    name: 'active',
    type: 'boolean',
    description: 'false refuses sign-in (the account is disabled).',
  },
  {
    name: 'password',
    type: 'string',
    mutability: 'writeOnly',
    returned: 'never',
    description: 'Checked against the password policy, stored only as an Argon2id hash.',
  },
  {
    name: 'groups',
    type: 'complex',
    multiValued: true,
    mutability: 'readOnly',
    description: 'The groups the user is a member of (change them through Groups).',
    subAttributes: [
      { name: 'value', type: 'string', mutability: 'readOnly', description: 'Group id.' },
      { name: 'display', type: 'string', mutability: 'readOnly', description: 'Group name.' },
      { name: 'type', type: 'string', mutability: 'readOnly', description: 'Always "direct".' },
    ],
  },
];

const GROUP_ATTRIBUTES: AttributeSpec[] = [
  {
    name: 'displayName',
    type: 'string',
    required: true,
    uniqueness: 'server',
    description: "The group's name, unique ignoring case (at most 256 characters).",
  },
  {
    name: 'members',
    type: 'complex',
    multiValued: true,
    description: 'The users in the group (at most 10,000; nested groups are not supported).',
    subAttributes: [
      {
        name: 'value',
        type: 'string',
        mutability: 'immutable',
        description: "The member's User id.",
      },
      {
        name: 'display',
        type: 'string',
        mutability: 'readOnly',
        description: "The member's userName.",
      },
      { name: 'type', type: 'string', mutability: 'immutable', description: '"User".' },
      {
        name: '$ref',
        type: 'reference',
        mutability: 'readOnly',
        referenceTypes: ['User'],
        description: "The member's URI.",
      },
    ],
  },
];

/**
 * The discovery endpoints of RFC 7644 section 4: what this server supports, its resource types
 * and their schemas, so that a provisioning client can configure itself. They need the same
 * `scim` token as the resources (nothing on /scim/v2 is public).
 */
@Controller('scim/v2')
@AllowAccessTokens(SCIM_SCOPE)
export class ScimDiscoveryController {
  private readonly base: string;

  constructor(@Inject(SERVICE_CONFIG) config: IdentityConfig) {
    this.base = `${config.RAMPART_ISSUER}/scim/v2`;
  }

  @Get('ServiceProviderConfig')
  serviceProviderConfig() {
    return {
      schemas: [CONFIG_SCHEMA],
      patch: { supported: true },
      bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
      filter: { supported: true, maxResults: MAX_PAGE_SIZE },
      changePassword: { supported: true },
      sort: { supported: true },
      etag: { supported: true },
      authenticationSchemes: [
        {
          type: 'oauthbearertoken',
          name: 'OAuth Bearer Token',
          description: `An access token from this issuer with the "${SCIM_SCOPE}" scope.`,
          specUri: 'https://www.rfc-editor.org/info/rfc6750',
          primary: true,
        },
      ],
      meta: {
        resourceType: 'ServiceProviderConfig',
        location: `${this.base}/ServiceProviderConfig`,
      },
    };
  }

  @Get('ResourceTypes')
  resourceTypes() {
    const resources = this.resourceTypeList();
    return {
      schemas: [LIST_RESPONSE_SCHEMA],
      totalResults: resources.length,
      startIndex: 1,
      itemsPerPage: resources.length,
      Resources: resources,
    };
  }

  @Get('ResourceTypes/:name')
  resourceType(@Param('name') name: string) {
    const found = this.resourceTypeList().find((type) => type.id === name);
    if (!found) throw resourceNotFound('ResourceType');
    return found;
  }

  @Get('Schemas')
  schemas() {
    const schemas = this.schemaList();
    return {
      schemas: [LIST_RESPONSE_SCHEMA],
      totalResults: schemas.length,
      startIndex: 1,
      itemsPerPage: schemas.length,
      Resources: schemas,
    };
  }

  @Get('Schemas/:id')
  schema(@Param('id') id: string) {
    const found = this.schemaList().find((schema) => schema.id === id);
    if (!found) throw resourceNotFound('Schema');
    return found;
  }

  private resourceTypeList() {
    return [
      {
        id: 'User',
        name: 'User',
        endpoint: '/Users',
        schema: USER_SCHEMA,
        description: 'Accounts',
      },
      {
        id: 'Group',
        name: 'Group',
        endpoint: '/Groups',
        schema: GROUP_SCHEMA,
        description: 'Groups of users',
      },
    ].map((type) => ({
      schemas: [RESOURCE_TYPE_SCHEMA],
      ...type,
      meta: { resourceType: 'ResourceType', location: `${this.base}/ResourceTypes/${type.id}` },
    }));
  }

  private schemaList() {
    return [
      { id: USER_SCHEMA, name: 'User', description: 'User Account', attributes: USER_ATTRIBUTES },
      { id: GROUP_SCHEMA, name: 'Group', description: 'Group', attributes: GROUP_ATTRIBUTES },
    ].map((schema) => ({
      schemas: [SCHEMA_SCHEMA],
      id: schema.id,
      name: schema.name,
      description: schema.description,
      attributes: schema.attributes.map(attribute),
      meta: { resourceType: 'Schema', location: `${this.base}/Schemas/${schema.id}` },
    }));
  }
}
