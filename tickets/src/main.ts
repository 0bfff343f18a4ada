import './tracing';
import { runService } from '@ticketing/common';
import { loadConfig } from './config';
import { startService } from './service';

runService({ name: 'tickets', loadConfig, start: startService });
