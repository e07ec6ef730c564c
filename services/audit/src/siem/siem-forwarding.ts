import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ConfigError, LOGGER, SERVICE_CONFIG, type Logger } from '@rampart/platform';
import { DataSource } from 'typeorm';
import type { AuditConfig } from '../config/audit.config.js';
import type { SyslogTarget } from './syslog-connection.js';
import { syslogHostname } from './syslog-format.js';
import { SyslogForwarder } from './syslog-forwarder.js';
import { AUDIT_VERSION } from '../version.js';

/** A PEM file named by a variable, read at start so a wrong path stops the service, naming it. */
function pemFile(variable: string, path: string | undefined): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    // The path is the operator's configuration, not a request's input.
    // eslint-disable-next-line security/detect-non-literal-fs-filename
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError('audit', [
      { variable, message: `cannot read ${path}: ${(error as NodeJS.ErrnoException).code}` },
    ]);
  }
}

/** Where AUDIT_SYSLOG_URL points, with the TLS settings of the other variables. */
export function syslogTarget(config: AuditConfig): SyslogTarget | undefined {
  if (!config.AUDIT_SYSLOG_URL) return undefined;
  const url = new URL(config.AUDIT_SYSLOG_URL);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port);
  if (url.protocol === 'tcp:') return { host, port };
  const ca = pemFile('AUDIT_SYSLOG_CA_FILE', config.AUDIT_SYSLOG_CA_FILE);
  const cert = pemFile('AUDIT_SYSLOG_CERT_FILE', config.AUDIT_SYSLOG_CERT_FILE);
  const key = pemFile('AUDIT_SYSLOG_KEY_FILE', config.AUDIT_SYSLOG_KEY_FILE);
  return {
    host,
    port,
    tls: {
      ...(ca ? { ca } : {}),
      ...(cert && key ? { cert, key } : {}),
      rejectUnauthorized: config.AUDIT_SYSLOG_TLS_VERIFY,
    },
  };
}

/**
 * Runs the SIEM forwarder in the service when AUDIT_SYSLOG_URL is set (`syslog-forwarder.ts`):
 * the chain, record by record, to an RFC 5424 receiver over TLS.
 */
@Injectable()
export class SiemForwarding implements OnApplicationBootstrap, OnApplicationShutdown {
  private forwarder: SyslogForwarder | undefined;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: AuditConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly dataSource: DataSource,
  ) {}

  onApplicationBootstrap(): void {
    const target = syslogTarget(this.config);
    if (!target) return;
    if (target.tls?.rejectUnauthorized === false) {
      this.logger.warn(
        'AUDIT_SYSLOG_TLS_VERIFY=false: the syslog receiver is not authenticated (development only)',
      );
    }
    const destination = `${target.host}:${target.port}`;
    this.forwarder = new SyslogForwarder(this.dataSource, {
      destination,
      target,
      syslog: {
        format: this.config.AUDIT_SYSLOG_FORMAT,
        facility: this.config.AUDIT_SYSLOG_FACILITY,
        hostname: syslogHostname(this.config.AUDIT_SYSLOG_HOSTNAME ?? hostname()),
        productVersion: AUDIT_VERSION,
      },
      batchSize: this.config.AUDIT_SYSLOG_BATCH_SIZE,
      logger: this.logger,
    });
    this.forwarder.start();
    this.logger.info(
      { destination, format: this.config.AUDIT_SYSLOG_FORMAT, tls: Boolean(target.tls) },
      'forwarding the audit log to syslog',
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.forwarder?.stop();
  }
}
