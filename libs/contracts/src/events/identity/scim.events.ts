import { z } from 'zod';
import { defineEvent, defineTopic } from '../envelope.js';

/**
 * Changes made through the SCIM provisioning API (`/scim/v2`), keyed by the user's or group's id.
 * Each event names who made the change (the access token's client and subject) and what changed,
 * by attribute name; never a password, a hash or an attribute's value beyond the user name,
 * group name and membership.
 */
export const ScimTopic = defineTopic({
  service: 'identity',
  aggregate: 'scim',
  version: 1,
  description:
    'Users and groups created, changed or deleted through SCIM, and refused SCIM requests, with the provisioning client; never passwords.',
});

/** Who provisioned: the access token's subject, and its client when the token names one. */
const actor = z.strictObject({
  subject: z.string().min(1).max(255),
  clientId: z.string().min(1).max(255).optional(),
});
const id = z.uuid();
/** SCIM attribute names that a change touched (`password` only says that it was set). */
const changed = z.array(z.string().min(1).max(64)).max(32);
/** Member ids added to or removed from a group by one change. */
const memberIds = z.array(z.uuid()).max(10_000);

export const ScimEvents = {
  userCreated: defineEvent({
    type: 'rampart.identity.scim.user-created',
    topic: ScimTopic,
    data: z.strictObject({
      actor,
      userId: id,
      userName: z.string().min(1).max(64),
      active: z.boolean(),
      /** Whether a password was set: without one the user cannot sign in with a password yet. */
      passwordSet: z.boolean(),
    }),
    description:
      'A provisioning client created a user (an account whose e-mail address counts as verified).',
  }),
  userUpdated: defineEvent({
    type: 'rampart.identity.scim.user-updated',
    topic: ScimTopic,
    data: z.strictObject({
      actor,
      userId: id,
      changed,
      /** The user's state after the change: false means sign-in is refused from now on. */
      active: z.boolean(),
    }),
    description:
      'A provisioning client changed a user (PUT or PATCH): which attributes, and whether the user is active.',
  }),
  userDeleted: defineEvent({
    type: 'rampart.identity.scim.user-deleted',
    topic: ScimTopic,
    data: z.strictObject({ actor, userId: id }),
    description:
      'A provisioning client deleted a user: the account and its group memberships are gone.',
  }),
  groupCreated: defineEvent({
    type: 'rampart.identity.scim.group-created',
    topic: ScimTopic,
    data: z.strictObject({
      actor,
      groupId: id,
      displayName: z.string().min(1).max(256),
      addedMembers: memberIds,
    }),
    description: 'A provisioning client created a group, with its first members.',
  }),
  groupUpdated: defineEvent({
    type: 'rampart.identity.scim.group-updated',
    topic: ScimTopic,
    data: z.strictObject({
      actor,
      groupId: id,
      changed,
      addedMembers: memberIds,
      removedMembers: memberIds,
    }),
    description:
      'A provisioning client changed a group (PUT or PATCH): which attributes, and the members added and removed.',
  }),
  groupDeleted: defineEvent({
    type: 'rampart.identity.scim.group-deleted',
    topic: ScimTopic,
    data: z.strictObject({ actor, groupId: id }),
    description: 'A provisioning client deleted a group.',
  }),
  requestRefused: defineEvent({
    type: 'rampart.identity.scim.request-refused',
    topic: ScimTopic,
    data: z.strictObject({
      /** Absent when the request carried no valid access token. */
      actor: actor.optional(),
      method: z.string().min(1).max(16),
      /** The route's path with ids left out, e.g. `/scim/v2/Users/{id}`. */
      path: z.string().min(1).max(128),
      status: z.number().int().min(400).max(599),
      scimType: z.string().max(32).optional(),
    }),
    description:
      'A SCIM request was refused (no or wrong token, bad filter, invalid value, conflict, failed precondition, ...).',
  }),
};
