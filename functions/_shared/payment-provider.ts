/** The simulated card provider: a fixed table of test payment methods, like a payment sandbox. */

/** What the provider says about one charge. */
export type ChargeOutcome = { status: "succeeded" } | { status: "declined"; reason: string };

/** Methods that are charged successfully. */
export const APPROVED_METHODS: readonly string[] = ["pm_card_visa", "pm_card_mastercard", "pm_card_amex"];

/** The method a demo or test uses to see a declined card. */
export const DECLINED_METHOD = "pm_card_chargeDeclined";

/** Decides a charge. Unknown methods are declined too: a real provider never charges what it cannot identify. */
export function chargeOutcome(method: string): ChargeOutcome {
  if (APPROVED_METHODS.includes(method)) return { status: "succeeded" };
  if (method.startsWith(DECLINED_METHOD)) return { status: "declined", reason: "card_declined" };
  return { status: "declined", reason: "unknown_payment_method" };
}
