// Prints, as JSON, the headers helmet's default middleware sets and removes
// (removed ones as null), so t/helmet_parity.t can compare mod_apisec with it.
const helmet = require("helmet");
const headers = {};
const res = {
  setHeader: (name, value) => { headers[name] = String(value); },
  removeHeader: (name) => { headers[name] = null; },
};
helmet()({}, res, () => process.stdout.write(JSON.stringify(headers)));
