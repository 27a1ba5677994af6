#!/usr/bin/env node
// The `vireo-server` command: builds on demand, then runs the server with the given arguments.
import '../scripts/start.mjs';
