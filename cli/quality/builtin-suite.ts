// The built-in task suite every `edgebench run` scores: sixteen short tasks a small instruct model
// should get right, each with one answer a machine can check, so two devices running the same model
// get the same score. The shapes come from the field reports: JSON commands for a home assistant
// (seed 003), extraction, classification with fixed labels (seed 001) and arithmetic.
//
// Frozen per version: changing, adding or removing an item (prompt, scoring or maxTokens) means a new
// version, because scores are only comparable within one version.
import { Suite, type SuiteItem } from "./suite.ts";

const HOME =
  "You control a smart home. Devices: kitchen_light, bedroom_fan, porch_light, thermostat. " +
  "Actions: turn_on, turn_off, set_temperature, get_state.";
const COMMAND = 'Reply with only JSON like {"action": "...", "device": "..."}.';

/** A command object with exactly these fields and values. */
const command = (properties: Record<string, string | number>): SuiteItem["scoring"] => ({
  mode: "json_schema",
  schema: {
    type: "object",
    required: Object.keys(properties),
    additionalProperties: false,
    properties: Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, { const: value }])),
  },
});

/** The label alone, allowing the quotes, backticks, bold and final period small models wrap it in. */
const label = (word: string): SuiteItem["scoring"] => ({
  mode: "regex",
  pattern: `^[\\s"'\`*]*${word}[\\s"'\`*.!]*$`,
  flags: "i",
});

const number = (value: number, tolerance?: number): SuiteItem["scoring"] => ({
  mode: "number",
  value,
  ...(tolerance === undefined ? {} : { tolerance }),
});

export const BUILTIN_SUITE: Suite = Suite.parse({
  name: "edgebench-core",
  version: "1",
  description:
    "Sixteen short tasks for small instruct models: home-assistant JSON commands, extraction, classification and arithmetic, each scored by a deterministic rule.",
  items: [
    {
      id: "home-kitchen-light-on",
      category: "json_command",
      prompt: `${HOME}\nTurn on the kitchen light. ${COMMAND}`,
      scoring: command({ action: "turn_on", device: "kitchen_light" }),
      maxTokens: 48,
    },
    {
      id: "home-bedroom-fan-off",
      category: "json_command",
      prompt: `${HOME}\nPlease switch off the fan in the bedroom. ${COMMAND}`,
      scoring: command({ action: "turn_off", device: "bedroom_fan" }),
      maxTokens: 48,
    },
    {
      id: "home-thermostat-set",
      category: "json_command",
      prompt: `${HOME}\nSet the thermostat to 21 degrees. Reply with only JSON like {"action": "...", "device": "...", "value": 0}.`,
      scoring: command({ action: "set_temperature", device: "thermostat", value: 21 }),
      maxTokens: 48,
    },
    {
      id: "home-porch-light-state",
      category: "json_command",
      prompt: `${HOME}\nIs the porch light on right now? ${COMMAND}`,
      scoring: command({ action: "get_state", device: "porch_light" }),
      maxTokens: 48,
    },
    {
      id: "extract-date",
      category: "extraction",
      prompt:
        "Write the date in this sentence as YYYY-MM-DD. Reply with only the date.\nSentence: The meeting was moved to Thursday, March 14, 2024, at 10 am.",
      scoring: { mode: "contains", value: "2024-03-14" },
      maxTokens: 16,
    },
    {
      id: "extract-email",
      category: "extraction",
      prompt:
        "Extract the email address from this sentence. Reply with only the email address.\nSentence: For billing questions, write to anna.berg@example.org before Friday.",
      scoring: { mode: "contains", value: "anna.berg@example.org" },
      maxTokens: 24,
    },
    {
      id: "extract-price",
      category: "extraction",
      prompt:
        "How many dollars does the jacket cost now? Reply with only the number.\nText: The blue jacket is on sale for $49.99, down from $80.",
      scoring: number(49.99, 0.005),
      maxTokens: 16,
    },
    {
      id: "extract-destination",
      category: "extraction",
      prompt:
        "Which city is the package going to? Reply with one word.\nText: Your package left Hamburg this morning and will arrive in Lisbon on Monday.",
      scoring: label("Lisbon"),
      maxTokens: 16,
    },
    {
      id: "sentiment-positive",
      category: "classification",
      prompt:
        "Classify the sentiment of this review as positive, negative or neutral. Reply with one word.\nReview: The battery lasts all day and the screen is gorgeous.",
      scoring: label("positive"),
      maxTokens: 16,
    },
    {
      id: "sentiment-negative",
      category: "classification",
      prompt:
        "Classify the sentiment of this review as positive, negative or neutral. Reply with one word.\nReview: It stopped working after two days and support never answered.",
      scoring: label("negative"),
      maxTokens: 16,
    },
    {
      id: "intent-order-status",
      category: "classification",
      prompt:
        "Classify the intent of this message as order_status, refund, cancel_order or other. Reply with only the label.\nMessage: Where is my package? I ordered it last week.",
      scoring: label("order_status"),
      maxTokens: 16,
    },
    {
      id: "intent-cancel-order",
      category: "classification",
      prompt:
        "Classify the intent of this message as order_status, refund, cancel_order or other. Reply with only the label.\nMessage: Please cancel the order I placed this morning, I picked the wrong size.",
      scoring: label("cancel_order"),
      maxTokens: 16,
    },
    {
      id: "math-add",
      category: "arithmetic",
      prompt: "What is 17 + 25? Reply with only the number.",
      scoring: number(42),
      maxTokens: 16,
    },
    {
      id: "math-multiply",
      category: "arithmetic",
      prompt: "What is 12 × 13? Reply with only the number.",
      scoring: number(156),
      maxTokens: 16,
    },
    {
      id: "math-word-problem",
      category: "arithmetic",
      prompt: "A box holds 6 eggs. How many eggs are in 8 boxes? Reply with only the number.",
      scoring: number(48),
      maxTokens: 16,
    },
    {
      id: "math-percent",
      category: "arithmetic",
      prompt: "What is 15% of 80? Reply with only the number.",
      scoring: number(12),
      maxTokens: 16,
    },
  ],
});
