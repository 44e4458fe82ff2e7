// Stands in for `anafanafo` in the Worker bundle (wrangler.toml [alias]). badge-maker's flat style
// measures text in 11px Verdana only; anafanafo loads four fonts' width tables (~900 KB of JSON parsed
// at every isolate start). This loads the one table flat badges use, and refuses the others.
import verdana11 from "anafanafo/data/verdana-11px-normal.json";
import { createConsumer } from "char-width-table-consumer";

const consumers = { "11px Verdana": createConsumer(verdana11) };

export default function measure(text, { font, ...rest }) {
  const consumer = consumers[font];
  if (!consumer) throw new Error(`the Worker's badges measure only 11px Verdana (flat style), not "${font}"`);
  return consumer.widthOf(text, rest);
}
