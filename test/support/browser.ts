import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (/usr/bin/chromium; .ci/run installs it when absent), driven by playwright-core, which never downloads a browser. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}
