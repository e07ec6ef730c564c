import { Controller, Get, Inject, Post, Req, Res, UseFilters } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public, RampartError, SERVICE_CONFIG } from '@rampart/platform';
import { z } from 'zod';
import { AccountsService, type Account, type Profile } from '../accounts/accounts.service.js';
import type { IdentityConfig } from '../config/identity.config.js';
import { OidcProviderHost } from '../oidc/oidc-provider-host.js';
import { ACCOUNT_CENTRE_CLIENT_ID } from '../oidc/provider-configuration.js';
import { CSRF_FIELD } from '../pages/csrf.js';
import { fieldErrorsOf, schemaErrors } from '../pages/form-errors.js';
import { html } from '../pages/html.js';
import { errorSummary, field, notice, type FieldErrors } from '../pages/layout.js';
import { PageErrorFilter } from '../pages/page-error.filter.js';
import { PageRenderer } from '../pages/page-renderer.js';
import { formOf } from '../pages/request-context.js';
import { selfActor, SessionsService } from '../sessions/sessions.service.js';

const profileForm = z.object({
  givenName: z.string().max(1024),
  familyName: z.string().max(1024),
  displayName: z.string().max(1024),
  version: z.coerce.number().int().positive(),
});

const passwordForm = z.object({
  currentPassword: z.string().min(1).max(4096),
  newPassword: z.string().min(1).max(4096),
});

const sessionForm = z.object({ uid: z.string().regex(/^[\w-]{1,64}$/) });

const PASSWORD_MESSAGES = {
  currentPassword: 'Enter your current password.',
  newPassword: 'Enter a new password.',
};

/** A time as people read it in a table: `2026-11-28 04:15 UTC`. */
const utc = (date: Date) => `${date.toISOString().replace('T', ' ').slice(0, 16)} UTC`;

/** Notices shown after a redirect, by the `done` query parameter (never free text from a URL). */
const NOTICES: Record<string, string> = {
  profile: 'Your profile is saved.',
  password: 'Your password is changed.',
  revoked: 'The session is ended.',
  'revoked-others': 'You are signed out everywhere else.',
};

interface SignedIn {
  account: Account;
  sessionUid: string;
}

/**
 * The account centre (`/account/*`): the signed-in person's profile, password and deletion
 * request. It rides on the provider's single sign-on session: without one, the person is sent
 * through the authorization endpoint as the first-party client `rampart-account`
 * (response_type `none`), which signs them in and comes back to `/account/callback`.
 */
@Public()
@Controller('account')
@UseFilters(PageErrorFilter)
export class AccountCentreController {
  private readonly issuer: string;
  private readonly minLength: number;

  constructor(
    private readonly accounts: AccountsService,
    private readonly pages: PageRenderer,
    private readonly host: OidcProviderHost,
    private readonly sessions: SessionsService,
    @Inject(SERVICE_CONFIG) config: IdentityConfig,
  ) {
    this.issuer = config.RAMPART_ISSUER;
    this.minLength = config.IDENTITY_PASSWORD_MIN_LENGTH;
  }

  @Get()
  async profile(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const signedIn = await this.signedIn(request, reply);
    if (!signedIn) return reply;
    const done = (request.query as Record<string, unknown>)['done'];
    return this.profilePage(request, reply, signedIn, {
      notice: typeof done === 'string' ? NOTICES[done] : undefined,
    });
  }

  @Post()
  async updateProfile(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const signedIn = await this.signedIn(request, reply);
    if (!signedIn) return reply;
    const form = formOf(request);
    this.pages.csrf.verify(request, form[CSRF_FIELD]);
    const parsed = profileForm.safeParse(form);
    const typed: Profile = {
      givenName: typeof form['givenName'] === 'string' ? form['givenName'].slice(0, 1024) : null,
      familyName: typeof form['familyName'] === 'string' ? form['familyName'].slice(0, 1024) : null,
      displayName:
        typeof form['displayName'] === 'string' ? form['displayName'].slice(0, 1024) : null,
    };
    if (!parsed.success) {
      return this.profilePage(request, reply, signedIn, {
        status: 422,
        typed,
        errors: schemaErrors(parsed.error.issues, {}),
      });
    }
    const { version, ...profile } = parsed.data;
    try {
      await this.accounts.updateProfile(signedIn.account.id, profile, version);
    } catch (error) {
      const errors = fieldErrorsOf(error);
      if (errors) return this.profilePage(request, reply, signedIn, { status: 422, typed, errors });
      if (error instanceof RampartError && error.code === 'conflict') {
        return this.profilePage(request, reply, signedIn, { status: 409, message: error.detail });
      }
      throw error;
    }
    return this.pages.redirect(reply, '/account?done=profile');
  }

  /** Where the provider sends the browser back after signing in: the session cookie is set now. */
  @Get('callback')
  callback(@Res() reply: FastifyReply) {
    return this.pages.redirect(reply, '/account');
  }

  @Get('password')
  async showPassword(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const signedIn = await this.signedIn(request, reply);
    if (!signedIn) return reply;
    return this.passwordPage(request, reply, signedIn, 200, {});
  }

  @Post('password')
  async changePassword(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const signedIn = await this.signedIn(request, reply);
    if (!signedIn) return reply;
    const form = formOf(request);
    this.pages.csrf.verify(request, form[CSRF_FIELD]);
    const parsed = passwordForm.safeParse(form);
    if (!parsed.success) {
      return this.passwordPage(
        request,
        reply,
        signedIn,
        422,
        schemaErrors(parsed.error.issues, PASSWORD_MESSAGES),
      );
    }
    try {
      await this.accounts.changePassword(
        signedIn.account.id,
        parsed.data.currentPassword,
        parsed.data.newPassword,
      );
    } catch (error) {
      const errors = fieldErrorsOf(error);
      if (errors) return this.passwordPage(request, reply, signedIn, 422, errors);
      throw error;
    }
    // Whoever may have known the old password is signed out everywhere but here.
    await this.sessions.revokeAll(
      signedIn.account.id,
      selfActor(signedIn.account.id),
      signedIn.sessionUid,
      'password-changed',
    );
    return this.pages.redirect(reply, '/account?done=password');
  }

  @Get('delete')
  async showDeletion(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const signedIn = await this.signedIn(request, reply);
    if (!signedIn) return reply;
    return this.deletionPage(request, reply, signedIn, 200);
  }

  @Post('delete')
  async requestDeletion(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const signedIn = await this.signedIn(request, reply);
    if (!signedIn) return reply;
    const form = formOf(request);
    this.pages.csrf.verify(request, form[CSRF_FIELD]);
    if (form['confirm'] !== 'yes') return this.deletionPage(request, reply, signedIn, 422, true);
    // This also ends every session of the account, this one included.
    await this.accounts.requestDeletion(signedIn.account.id);
    return this.pages.redirect(reply, '/account/delete/done');
  }

  @Get('delete/done')
  deletionRequested(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.pages.send(request, reply, {
      title: 'Your account is being deleted',
      body: () =>
        html`<p>
          You are signed out everywhere, and you cannot sign in with this account any more. The
          services holding your data are erasing it.
        </p>`,
    });
  }

  @Get('sessions')
  async showSessions(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const signedIn = await this.signedIn(request, reply);
    if (!signedIn) return reply;
    const sessions = await this.sessions.listForAccount(signedIn.account.id, signedIn.sessionUid);
    const done = (request.query as Record<string, unknown>)['done'];
    const message = typeof done === 'string' ? NOTICES[done] : undefined;
    const others = sessions.filter((session) => !session.current);
    return this.pages.send(request, reply, {
      title: 'Where you are signed in',
      accountNavigation: true,
      body: ({ csrf }) =>
        html`${message ? notice(message) : ''}
          <table>
            <caption>
              Your sign-in sessions, most recently used first
            </caption>
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">Address</th>
                <th scope="col">Signed in</th>
                <th scope="col">Last active</th>
                <th scope="col"><span class="visually-hidden">Action</span></th>
              </tr>
            </thead>
            <tbody>
              ${sessions.map(
                (session) =>
                  html`<tr>
                    <td>${session.device}</td>
                    <td>${session.ip ?? 'unknown'}</td>
                    <td>${utc(session.createdAt)}</td>
                    <td>${utc(session.lastSeenAt)}</td>
                    <td>
                      ${
                        session.current
                          ? html`This device (<a href="/oidc/session/end">sign out</a>)`
                          : html`<form
                              method="post"
                              action="/account/sessions/revoke"
                              class="inline"
                            >
                              ${csrf}
                              <input type="hidden" name="uid" value="${session.id}" />
                              <button type="submit" class="secondary">End this session</button>
                            </form>`
                      }
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>
          ${
            others.length > 0
              ? html`<form method="post" action="/account/sessions/revoke-others">
                  ${csrf}
                  <div class="actions">
                    <button type="submit" class="danger">Sign out everywhere else</button>
                  </div>
                </form>`
              : ''
          }`,
    });
  }

  @Post('sessions/revoke')
  async revokeSession(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const signedIn = await this.signedIn(request, reply);
    if (!signedIn) return reply;
    const form = formOf(request);
    this.pages.csrf.verify(request, form[CSRF_FIELD]);
    const parsed = sessionForm.safeParse(form);
    if (!parsed.success || parsed.data.uid === signedIn.sessionUid) {
      throw new RampartError(
        'bad-request',
        'Choose another session to end; sign out to end this one.',
      );
    }
    // Another account's session (or none) is `not-found` (404), like one that already ended.
    await this.sessions.revoke(
      signedIn.account.id,
      parsed.data.uid,
      selfActor(signedIn.account.id),
    );
    return this.pages.redirect(reply, '/account/sessions?done=revoked');
  }

  @Post('sessions/revoke-others')
  async revokeOtherSessions(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const signedIn = await this.signedIn(request, reply);
    if (!signedIn) return reply;
    this.pages.csrf.verify(request, formOf(request)[CSRF_FIELD]);
    await this.sessions.revokeAll(
      signedIn.account.id,
      selfActor(signedIn.account.id),
      signedIn.sessionUid,
    );
    return this.pages.redirect(reply, '/account/sessions?done=revoked-others');
  }

  /**
   * The signed-in account, or undefined after answering: a redirect to sign in (GET) or a 401
   * page (a POST whose session ended meanwhile: its form data is not carried through a sign-in).
   */
  private async signedIn(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<SignedIn | undefined> {
    if (!this.host.enabled) {
      throw new RampartError('service-unavailable', 'Sign-in is not available right now.');
    }
    const session = await this.host.signedInAccount(request.raw, reply.raw);
    const account = session && (await this.accounts.get(session.accountId));
    if (session && account && account.status !== 'DISABLED') {
      return { account, sessionUid: session.sessionUid };
    }
    // Signed in as an account that is gone or disabled: sending the person to sign in would come
    // straight back (the session still stands), so say so instead.
    if (session) {
      throw new RampartError('forbidden', 'This account cannot be used. Sign out and try another.');
    }
    if (request.method !== 'GET') {
      throw new RampartError('unauthenticated', 'Your session has ended. Sign in again.');
    }
    const authorize = new URL(`${this.issuer}/oidc/auth`);
    authorize.search = new URLSearchParams({
      client_id: ACCOUNT_CENTRE_CLIENT_ID,
      response_type: 'none',
      redirect_uri: `${this.issuer}/account/callback`,
      scope: 'openid',
    }).toString();
    this.pages.redirect(reply, authorize.toString());
    return undefined;
  }

  private async profilePage(
    request: FastifyRequest,
    reply: FastifyReply,
    { account }: SignedIn,
    options: {
      status?: number;
      typed?: Profile;
      errors?: FieldErrors;
      message?: string | undefined;
      notice?: string | undefined;
    },
  ) {
    if (account.status === 'DELETION_REQUESTED')
      return this.deletionPage(request, reply, { account, sessionUid: '' }, 200);
    const stored = await this.accounts.getProfile(account.id);
    if (!stored) throw new RampartError('not-found', 'No such account.');
    const shown = options.typed ?? stored;
    const errors = options.errors ?? {};
    const refused = options.message !== undefined || Object.keys(errors).length > 0;
    return this.pages.send(request, reply, {
      title: 'Your account',
      status: options.status ?? 200,
      accountNavigation: true,
      body: ({ csrf }) =>
        html`${options.notice ? notice(options.notice) : ''}
          ${refused ? errorSummary(options.message ?? 'Check the fields below.', errors) : ''}
          <dl class="summary">
            <dt>Username</dt>
            <dd>${account.username}</dd>
            <dt>E-mail address</dt>
            <dd>
              ${account.email}
              ${account.emailVerified ? '(confirmed)' : '(not confirmed yet: open the link we sent you)'}
            </dd>
            <dt>Member since</dt>
            <dd>${account.createdAt.toISOString().slice(0, 10)}</dd>
          </dl>
          <h2>Profile</h2>
          <form method="post" action="/account">
            ${csrf}
            <input type="hidden" name="version" value="${stored.version}" />
            ${field({ name: 'displayName', label: 'Display name', autocomplete: 'nickname', value: shown.displayName ?? '', maxLength: 256, hint: 'How applications greet you.', errors })}
            ${field({ name: 'givenName', label: 'Given name', autocomplete: 'given-name', value: shown.givenName ?? '', maxLength: 256, errors })}
            ${field({ name: 'familyName', label: 'Family name', autocomplete: 'family-name', value: shown.familyName ?? '', maxLength: 256, errors })}
            <div class="actions"><button type="submit">Save profile</button></div>
          </form>`,
    });
  }

  private passwordPage(
    request: FastifyRequest,
    reply: FastifyReply,
    { account }: SignedIn,
    status: number,
    errors: FieldErrors,
  ) {
    const refused = Object.keys(errors).length > 0;
    return this.pages.send(request, reply, {
      title: 'Change your password',
      status,
      accountNavigation: true,
      body: ({ csrf }) =>
        html`${refused ? errorSummary('Your password was not changed.', errors) : ''}
          <form method="post" action="/account/password" novalidate>
            ${csrf}
            <input
              type="hidden"
              name="username"
              autocomplete="username"
              value="${account.username}"
            />
            ${field({ name: 'currentPassword', label: 'Current password', type: 'password', autocomplete: 'current-password', required: true, errors })}
            ${field({ name: 'newPassword', label: 'New password', type: 'password', autocomplete: 'new-password', required: true, hint: `At least ${this.minLength} characters. A long phrase is easiest to remember.`, errors })}
            <div class="actions"><button type="submit">Change password</button></div>
          </form>`,
    });
  }

  private deletionPage(
    request: FastifyRequest,
    reply: FastifyReply,
    { account }: SignedIn,
    status: number,
    unconfirmed = false,
  ) {
    if (account.status === 'DELETION_REQUESTED') {
      return this.pages.send(request, reply, {
        title: 'Your account is being deleted',
        status,
        body: () =>
          html`<p>
              You asked for your account <strong>${account.username}</strong> to be deleted. You
              cannot sign in with it any more, and the services holding your data are erasing it.
            </p>
            <p><a href="/oidc/session/end">Sign out</a></p>`,
      });
    }
    return this.pages.send(request, reply, {
      title: 'Delete your account',
      status,
      accountNavigation: true,
      body: ({ csrf }) =>
        html`${unconfirmed ? errorSummary('Tick the box to confirm.', { confirm: 'Confirm that you want your account deleted.' }) : ''}
          <p>
            Deleting your account <strong>${account.username}</strong> signs you out everywhere for
            good and erases your data. It cannot be undone.
          </p>
          <form method="post" action="/account/delete">
            ${csrf}
            <div class="field${unconfirmed ? ' invalid' : ''}">
              <input
                id="field-confirm"
                type="checkbox"
                name="confirm"
                value="yes"
                required${unconfirmed ? html` aria-invalid="true" aria-describedby="field-confirm-error"` : ''}
              />
              <label for="field-confirm">I understand: delete my account</label>
              ${unconfirmed ? html`<p class="error" id="field-confirm-error">Confirm that you want your account deleted.</p>` : ''}
            </div>
            <div class="actions">
              <button type="submit" class="danger">Delete my account</button>
            </div>
          </form>`,
    });
  }
}
