import { Controller, Get, Inject, Post, Req, Res, UseFilters } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public, RampartError, SERVICE_CONFIG } from '@rampart/platform';
import { z } from 'zod';
import { AccountsService } from '../accounts/accounts.service.js';
import type { IdentityConfig } from '../config/identity.config.js';
import { CSRF_FIELD } from '../pages/csrf.js';
import { fieldErrorsOf, schemaErrors } from '../pages/form-errors.js';
import { html } from '../pages/html.js';
import { Invitations } from '../pages/invitations.js';
import { errorSummary, field, type FieldErrors, type PageView } from '../pages/layout.js';
import { PageErrorFilter } from '../pages/page-error.filter.js';
import { PageRenderer } from '../pages/page-renderer.js';
import { formOf } from '../pages/request-context.js';

const registrationForm = z.object({
  username: z.string().max(256),
  email: z.string().max(320).optional(),
  password: z.string().min(1).max(4096),
  invitation: z.string().max(1024).optional(),
});

const REGISTRATION_MESSAGES = {
  username: 'Enter a username.',
  email: 'Enter your e-mail address.',
  password: 'Enter a password.',
};

const verificationForm = z.object({ token: z.string().min(1).max(256) });

interface RegistrationValues {
  username?: string;
  email?: string;
  invitation?: string;
}

/**
 * Sign-up and e-mail verification: `/account/register` and `/account/verify`. Who may sign up is
 * `IDENTITY_REGISTRATION` (open, invite, closed). Opening a verification link only shows a
 * button: mail scanners fetch links, so only the POST consumes the token.
 */
@Public()
@Controller('account')
@UseFilters(PageErrorFilter)
export class RegistrationController {
  private readonly mode: IdentityConfig['IDENTITY_REGISTRATION'];
  private readonly minLength: number;

  constructor(
    private readonly accounts: AccountsService,
    private readonly pages: PageRenderer,
    private readonly invitations: Invitations,
    @Inject(SERVICE_CONFIG) config: IdentityConfig,
  ) {
    this.mode = config.IDENTITY_REGISTRATION;
    this.minLength = config.IDENTITY_PASSWORD_MIN_LENGTH;
  }

  @Get('register')
  showRegistration(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const query = request.query as Record<string, unknown>;
    const invitation = typeof query['invitation'] === 'string' ? query['invitation'] : undefined;
    const invited = this.admit(invitation);
    return this.registrationPage(request, reply, 200, {
      ...(invited ? { email: invited.email, invitation } : {}),
    });
  }

  @Post('register')
  async register(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const form = formOf(request);
    this.pages.csrf.verify(request, form[CSRF_FIELD]);
    const parsed = registrationForm.safeParse(form);
    const values: RegistrationValues = {
      username: typeof form['username'] === 'string' ? form['username'].slice(0, 256) : '',
      email: typeof form['email'] === 'string' ? form['email'].slice(0, 320) : '',
    };
    if (!parsed.success) {
      return this.registrationPage(request, reply, 422, values, {
        errors: schemaErrors(parsed.error.issues, REGISTRATION_MESSAGES),
      });
    }
    const invited = this.admit(parsed.data.invitation);
    const email = invited?.email ?? parsed.data.email ?? '';
    if (invited) Object.assign(values, { email, invitation: parsed.data.invitation });
    try {
      await this.accounts.register({
        username: parsed.data.username,
        email,
        password: parsed.data.password,
      });
    } catch (error) {
      const errors = fieldErrorsOf(error);
      if (errors) return this.registrationPage(request, reply, 422, values, { errors });
      if (error instanceof RampartError && error.code === 'conflict') {
        return this.registrationPage(request, reply, 409, values, { message: error.detail! });
      }
      throw error;
    }
    return this.pages.redirect(reply, '/account/register/sent');
  }

  @Get('register/sent')
  registered(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.pages.send(request, reply, {
      title: 'Check your e-mail',
      body: () =>
        html`<p>
            We sent a link to the address you gave. Open it to confirm the address; it works once
            and expires in 24 hours.
          </p>
          <p>Your account is ready: you can <a href="/account">sign in</a> now.</p>`,
    });
  }

  @Get('verify')
  showVerification(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const parsed = verificationForm.safeParse(request.query);
    if (!parsed.success) {
      throw new RampartError('bad-request', 'The verification link is incomplete.');
    }
    return this.pages.send(request, reply, {
      title: 'Confirm your e-mail address',
      body: ({ csrf }) =>
        html`<p>Confirm that this e-mail address belongs to you.</p>
          <form method="post" action="/account/verify">
            ${csrf}
            <input type="hidden" name="token" value="${parsed.data.token}" />
            <div class="actions"><button type="submit">Confirm my address</button></div>
          </form>`,
    });
  }

  @Post('verify')
  async verify(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const form = formOf(request);
    this.pages.csrf.verify(request, form[CSRF_FIELD]);
    const parsed = verificationForm.safeParse(form);
    if (!parsed.success) {
      throw new RampartError('bad-request', 'The verification link is incomplete.');
    }
    await this.accounts.verifyEmail(parsed.data.token);
    return this.pages.redirect(reply, '/account/verify/done');
  }

  @Get('verify/done')
  verified(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.pages.send(request, reply, {
      title: 'Address confirmed',
      body: () =>
        html`<p>Thank you: your e-mail address is confirmed.</p>
          <p><a href="/account">Go to your account</a></p>`,
    });
  }

  /** Whether this request may register at all, and with which invitation; refuses otherwise. */
  private admit(invitation: string | undefined) {
    if (this.mode === 'closed') {
      throw new RampartError(
        'forbidden',
        'Sign-up is closed here. Ask an administrator for an account.',
      );
    }
    if (this.mode === 'open') return undefined;
    const invited = this.invitations.read(invitation);
    if (!invited) {
      throw new RampartError(
        'forbidden',
        'Sign-up here is by invitation only, and this invitation is missing, invalid or expired.',
      );
    }
    return invited;
  }

  private registrationPage(
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    values: RegistrationValues,
    refusal: { errors?: FieldErrors; message?: string } = {},
  ) {
    const errors = refusal.errors ?? {};
    const refused = refusal.message !== undefined || Object.keys(errors).length > 0;
    return this.pages.send(request, reply, {
      title: 'Create an account',
      status,
      body: ({ csrf }: PageView) =>
        html`${refused ? errorSummary(refusal.message ?? 'Check the fields below.', errors) : ''}
          <form method="post" action="/account/register" novalidate>
            ${csrf}
            ${values.invitation ? html`<input type="hidden" name="invitation" value="${values.invitation}" />` : ''}
            ${field({ name: 'username', label: 'Username', autocomplete: 'username', value: values.username, required: true, maxLength: 64, hint: '3 to 64 letters, digits, ".", "_" or "-".', errors })}
            ${
              values.invitation
                ? html`<p>
                    E-mail address: <strong>${values.email}</strong> (from your invitation)
                  </p>`
                : field({
                    name: 'email',
                    label: 'E-mail address',
                    type: 'email',
                    autocomplete: 'email',
                    value: values.email,
                    required: true,
                    maxLength: 320,
                    errors,
                  })
            }
            ${field({ name: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', required: true, hint: `At least ${this.minLength} characters. A long phrase is easiest to remember.`, errors })}
            <div class="actions"><button type="submit">Create account</button></div>
          </form>
          <p>Already have an account? <a href="/account">Sign in</a>.</p>`,
    });
  }
}
