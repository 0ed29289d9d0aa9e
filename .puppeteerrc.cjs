// The browser tests launch the system's Chromium and Firefox ESR (scripts/setup.sh installs them);
// puppeteer (a dependency of @web/test-runner-puppeteer) must not download browsers of its own.
module.exports = { skipDownload: true };
