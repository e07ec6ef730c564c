import { Controller, Get, Header } from '@nestjs/common';
import { Public } from '@rampart/platform';
import { STYLESHEET } from './stylesheet.js';

/** The pages' stylesheet (the only asset: no scripts, no fonts, no images). */
@Public()
@Controller('account/assets')
export class AssetsController {
  @Get('rampart.css')
  @Header('content-type', 'text/css; charset=utf-8')
  @Header('cache-control', 'public, max-age=3600')
  @Header('x-content-type-options', 'nosniff')
  stylesheet(): string {
    return STYLESHEET;
  }
}
