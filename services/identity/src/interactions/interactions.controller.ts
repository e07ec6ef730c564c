import { Controller, Get, Inject, Param, Post, Req, Res, UseFilters } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { InteractionResults } from 'oidc-provider';
import { Public, RampartError } from '@rampart/platform';
import { OidcProviderHost } from '../oidc/oidc-provider-host.js';
import { CSRF_FIELD } from '../pages/csrf.js';
import { html } from '../pages/html.js';
import { PageErrorFilter } from '../pages/page-error.filter.js';
import { PageRenderer } from '../pages/page-renderer.js';
import { formOf } from '../pages/request-context.js';
import { CLAIM_DESCRIPTIONS, SCOPE_DESCRIPTIONS } from './consent-descriptions.js';
import {
  LOGIN_STEPS,
  loginStateOf,
  nextLoginStep,
  type LoginStep,
  type LoginStepContext,
  type LoginStepOutcome,
} from './login-steps.js';

type Interaction = Awaited<ReturnType<OidcProviderHost['provider']['interactionDetails']>>;

/** The provider's interaction uids (nanoid); anything else never reaches the provider. */
const UID = /^[\w-]{1,64}$/;

interface ConsentDetails {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

/**
 * The provider's interactions (`/interaction/:uid`): signing in, as an ordered list of login
 * steps (login-steps.ts), and consent to what an application asks for. The provider decides
 * which prompt is due; this controller renders it and hands the result back with
 * `interactionFinished`, which redirects to the provider's resume endpoint.
 */
@Public()
@Controller('interaction')
@UseFilters(PageErrorFilter)
export class InteractionsController {
  constructor(
    private readonly host: OidcProviderHost,
    private readonly pages: PageRenderer,
    @Inject(LOGIN_STEPS) private readonly steps: readonly LoginStep[],
  ) {}

  @Get(':uid')
  async show(
    @Param('uid') uid: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const interaction = await this.interaction(uid, request, reply);
    if (interaction.prompt.name === 'login') {
      return this.loginPage(request, reply, interaction, this.stepContext(request, interaction));
    }
    if (interaction.prompt.name === 'consent') return this.consentPage(request, reply, interaction);
    throw new RampartError('bad-request', `Unsupported sign-in prompt.`);
  }

  @Post(':uid/login')
  async login(
    @Param('uid') uid: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const form = formOf(request);
    this.pages.csrf.verify(request, form[CSRF_FIELD]);
    const interaction = await this.interaction(uid, request, reply);
    if (interaction.prompt.name !== 'login') {
      throw new RampartError('bad-request', 'This sign-in does not expect a password now.');
    }
    const context = this.stepContext(request, interaction);
    const step = await nextLoginStep(this.steps, context);
    // The form names its step: a stale tab posting an earlier step's form starts over.
    if (!step || form['step'] !== step.id) return this.pages.redirect(reply, `/interaction/${uid}`);
    const outcome = await step.submit(context, form);
    if (outcome.kind === 'retry')
      return this.loginPage(request, reply, interaction, context, outcome);

    const next = await nextLoginStep(this.steps, { ...context, state: outcome.state });
    if (next) {
      // More to do: keep the state on the interaction (server-side) and show the next step.
      interaction.result = { rampartLogin: outcome.state };
      await interaction.persist();
      return this.pages.redirect(reply, `/interaction/${uid}`);
    }
    const { accountId, amr } = outcome.state;
    if (!accountId) throw new Error('login steps finished without identifying the account');
    return this.finish(request, reply, { login: { accountId, amr } });
  }

  @Post(':uid/confirm')
  async confirm(
    @Param('uid') uid: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const form = formOf(request);
    this.pages.csrf.verify(request, form[CSRF_FIELD]);
    const interaction = await this.interaction(uid, request, reply);
    const accountId = interaction.session?.accountId;
    if (interaction.prompt.name !== 'consent' || !accountId) {
      throw new RampartError('bad-request', 'This sign-in does not ask for consent now.');
    }
    const { Grant } = this.host.provider;
    const clientId = String(interaction.params['client_id']);
    const grant =
      (interaction.grantId ? await Grant.find(interaction.grantId) : undefined) ??
      new Grant({ accountId, clientId });
    const missing = interaction.prompt.details as ConsentDetails;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    return this.finish(request, reply, {
      consent: interaction.grantId ? {} : { grantId },
    });
  }

  /** "Cancel" on sign-in or "Deny" on consent: the application gets `access_denied`. */
  @Post(':uid/abort')
  async abort(
    @Param('uid') uid: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const form = formOf(request);
    this.pages.csrf.verify(request, form[CSRF_FIELD]);
    await this.interaction(uid, request, reply);
    return this.finish(request, reply, {
      error: 'access_denied',
      error_description: 'The person cancelled the sign-in or refused consent.',
    });
  }

  private async interaction(
    uid: string,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<Interaction> {
    if (!this.host.enabled) {
      throw new RampartError('service-unavailable', 'Sign-in is not available right now.');
    }
    if (!UID.test(uid)) throw new RampartError('not-found', 'There is no such sign-in.');
    // The interaction cookie (bound to this path) ties the uid to this browser; the provider
    // refuses a uid without it, an expired interaction or a finished one (400 page).
    const interaction = await this.host.provider.interactionDetails(request.raw, reply.raw);
    if (interaction.uid !== uid) {
      throw new RampartError('bad-request', 'This sign-in page does not belong to this sign-in.');
    }
    return interaction;
  }

  private stepContext(request: FastifyRequest, interaction: Interaction): LoginStepContext {
    return {
      request,
      uid: interaction.uid,
      state: loginStateOf(interaction.result),
      params: interaction.params,
    };
  }

  /** Hands the result to the provider, which answers with a 303 to its resume endpoint. */
  private async finish(request: FastifyRequest, reply: FastifyReply, result: InteractionResults) {
    reply.hijack();
    reply.raw.setHeader('cache-control', 'no-store');
    await this.host.provider.interactionFinished(request.raw, reply.raw, result, {
      mergeWithLastSubmission: false,
    });
  }

  private async clientName(interaction: Interaction): Promise<string> {
    const clientId = String(interaction.params['client_id']);
    const client = await this.host.provider.Client.find(clientId);
    return client?.clientName ?? clientId;
  }

  /** The redirect after a form here ends at the client's redirect_uri (CSP form-action). */
  private formRedirects(interaction: Interaction): string[] {
    const redirect = interaction.params['redirect_uri'];
    return typeof redirect === 'string' ? [redirect] : [];
  }

  private async loginPage(
    request: FastifyRequest,
    reply: FastifyReply,
    interaction: Interaction,
    context: LoginStepContext,
    retry?: Extract<LoginStepOutcome, { kind: 'retry' }>,
  ) {
    const step = await nextLoginStep(this.steps, context);
    if (!step) throw new RampartError('bad-request', 'This sign-in has nothing left to ask.');
    const client = await this.clientName(interaction);
    return this.pages.send(request, reply, {
      title: step.title,
      status: retry?.status ?? 200,
      formRedirects: this.formRedirects(interaction),
      body: (view) =>
        html`<p>to continue to <strong>${client}</strong></p>
          ${step.render(context, view, retry)}`,
    });
  }

  private async consentPage(
    request: FastifyRequest,
    reply: FastifyReply,
    interaction: Interaction,
  ) {
    const client = await this.clientName(interaction);
    const missing = interaction.prompt.details as ConsentDetails;
    const scopes = missing.missingOIDCScope ?? [];
    const claims = missing.missingOIDCClaims ?? [];
    const resources = Object.entries(missing.missingResourceScopes ?? {});
    const uid = interaction.uid;
    return this.pages.send(request, reply, {
      title: 'Allow access?',
      formRedirects: this.formRedirects(interaction),
      body: ({ csrf }) =>
        html`<p><strong>${client}</strong> asks to:</p>
          <ul class="scopes">
            ${scopes.map((scope) => html`<li>${SCOPE_DESCRIPTIONS[scope] ?? html`use <code>${scope}</code>`}</li>`)}
            ${claims.length > 0 ? html`<li>See ${claims.map((claim, index) => html`${index > 0 ? ', ' : ''}${CLAIM_DESCRIPTIONS[claim] ?? claim}`)}</li>` : ''}
            ${resources.map(([indicator, granted]) => html`<li>Use <code>${indicator}</code> on your behalf: ${granted.map((scope, index) => html`${index > 0 ? ', ' : ''}<code>${scope}</code>`)}</li>`)}
          </ul>
          <p>You can withdraw this in your account at any time.</p>
          <div class="actions">
            <form method="post" action="/interaction/${uid}/confirm" class="inline">
              ${csrf}
              <button type="submit">Allow</button>
            </form>
            <form method="post" action="/interaction/${uid}/abort" class="inline">
              ${csrf}
              <button type="submit" class="secondary">Deny</button>
            </form>
          </div>`,
    });
  }
}
