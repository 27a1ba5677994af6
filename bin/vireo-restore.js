#!/usr/bin/env node
// The `vireo-restore` command: point-in-time recovery (see README, "Point-in-time recovery").
import '../scripts/restore.mjs';
