import { Global, Module } from '@nestjs/common';
import { PersonalData } from './personal-data.service.js';

/** Pseudonyms and per-person encryption, for the ingest (through its data source) and the query. */
@Global()
@Module({ providers: [PersonalData], exports: [PersonalData] })
export class PersonalDataModule {}
