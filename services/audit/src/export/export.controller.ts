import { Controller, Get, Header, Query } from '@nestjs/common';
import { AllowAccessTokens, CurrentPrincipal, Outbox, type Principal } from '@rampart/platform';
import { DataSource } from 'typeorm';
import { AUDIT_READ_SCOPE } from '../verify/verify.controller.js';
import { recordAuditedRead } from '../query/audited-read.js';
import { exportNdjson, parseExportQuery } from './ndjson-export.js';

/**
 * `/audit/v1/export`: records in sequence order as an NDJSON file, for SIEMs that import files.
 * Audited like a query (`operation: "export"`), in the transaction that reads the records.
 */
@Controller('audit/v1/export')
@AllowAccessTokens(AUDIT_READ_SCOPE)
export class ExportController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
  ) {}

  @Get()
  @Header('content-type', 'application/x-ndjson; charset=utf-8')
  @Header('content-disposition', 'attachment; filename="rampart-audit.ndjson"')
  export(@Query() raw: unknown, @CurrentPrincipal() caller: Principal): Promise<string> {
    const range = parseExportQuery(raw);
    return this.dataSource.transaction(async (transaction) => {
      const exported = await exportNdjson(transaction, range);
      await recordAuditedRead(this.outbox, transaction, caller, {
        operation: 'export',
        filters: {},
        continued: range.after > 0,
        limit: range.limit,
        returned: exported.records,
      });
      return exported.ndjson;
    });
  }
}
