import type { FastifyRequest } from 'fastify';
import type { FieldErrors, PageView } from '../pages/layout.js';
import type { SafeHtml } from '../pages/html.js';

/**
 * What a sign-in has established so far. It lives on the provider's interaction between steps
 * (server-side, bound to the browser by the interaction cookie), never in a form field.
 */
export interface LoginState {
  /** Set by the step that identified the person (the password step today). */
  accountId?: string;
  /** Methods completed, as RFC 8176 `amr` values (`pwd`; later `otp`, `hwk`, ...). */
  amr: string[];
  /** Steps completed, by id, so none runs twice. */
  completed: string[];
}

/** What a step sees of the interaction. */
export interface LoginStepContext {
  request: FastifyRequest;
  /** The interaction's uid (the page posts to `/interaction/${uid}/login`). */
  uid: string;
  state: LoginState;
  /** The authorization request's parameters (login_hint, acr_values, ...). */
  params: Readonly<Record<string, unknown>>;
}

export type LoginStepOutcome =
  /** The step is satisfied; the state carries what it established. */
  | { kind: 'done'; state: LoginState }
  /** Show the step again with these messages (status 400 or 422), keeping `values`. */
  | {
      kind: 'retry';
      status: number;
      message: string;
      errors?: FieldErrors;
      values?: Record<string, string>;
    };

/**
 * One step of signing in: a page with a form and the handling of its submission. The sign-in is
 * the ordered list of steps (LOGIN_STEPS); each runs when `applies` says the state still needs it.
 * Multi-factor authentication, the risk engine and recovery arrive as further steps (a second
 * factor applies once `accountId` is known and the account has one enrolled; a risk check may
 * insert a step; recovery is a link out of the password step), without touching this contract.
 */
export interface LoginStep {
  /** Stable id, the `step` field of the step's form. */
  readonly id: string;
  /** The page's heading. */
  readonly title: string;
  applies(context: LoginStepContext): boolean | Promise<boolean>;
  /** The step's form (inside the page layout). */
  render(
    context: LoginStepContext,
    view: PageView,
    retry?: Extract<LoginStepOutcome, { kind: 'retry' }>,
  ): SafeHtml;
  submit(context: LoginStepContext, form: Record<string, unknown>): Promise<LoginStepOutcome>;
}

/** The ordered steps of signing in (provided by InteractionsModule). */
export const LOGIN_STEPS = Symbol('rampart.identity.login-steps');

export function initialLoginState(): LoginState {
  return { amr: [], completed: [] };
}

/** The first step that still applies, or undefined when the sign-in is complete. */
export async function nextLoginStep(
  steps: readonly LoginStep[],
  context: LoginStepContext,
): Promise<LoginStep | undefined> {
  for (const step of steps) {
    if (context.state.completed.includes(step.id)) continue;
    if (await step.applies(context)) return step;
  }
  return undefined;
}

/** Reads the state kept on an interaction, refusing anything not shaped like one. */
export function loginStateOf(result: unknown): LoginState {
  const kept = (result as { rampartLogin?: unknown } | undefined)?.rampartLogin as
    Partial<LoginState> | undefined;
  if (
    !kept ||
    !Array.isArray(kept.amr) ||
    !Array.isArray(kept.completed) ||
    (kept.accountId !== undefined && typeof kept.accountId !== 'string')
  ) {
    return initialLoginState();
  }
  return {
    ...(kept.accountId ? { accountId: kept.accountId } : {}),
    amr: kept.amr.filter((value): value is string => typeof value === 'string'),
    completed: kept.completed.filter((value): value is string => typeof value === 'string'),
  };
}
