// Digital receipts: every purchase or return accrued at one store (and register), live.
import { connect, demoKey, el } from "/demo/live.js";

const RECEIPTS = `subscription Receipts($storeId: String!, $registerId: String) {
  receipts(storeId: $storeId, registerId: $registerId) {
    orderId channel registerId pointsEarned bonusPoints pendingPoints balanceAfter
    tier { name } tierChanged rewardsUnlocked { name } createdAt
    profile { firstName }
  }
}`;

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const storeId = params.get("store") || "store-1";
const registerId = params.get("register");
$("store").textContent = storeId;
$("register").textContent = registerId ? ` · register ${registerId}` : "";

const line = (label, value) => el("div", { class: "line" }, el("span", {}, label), el("span", {}, String(value)));

function render(r) {
  $("problem").textContent = "";
  const card = el("article", { class: "receipt", "data-order": r.orderId },
    el("h2", {}, `Order ${r.orderId}`),
    el("div", { class: "muted" }, `${new Date(r.createdAt).toLocaleString()} · ${r.channel}${r.registerId ? " · register " + r.registerId : ""}`),
    line("Member", r.profile?.firstName || "member"),
    line("Points earned", r.pointsEarned),
    line("  of which bonus", r.bonusPoints),
    line("Pending (return window)", r.pendingPoints),
    el("div", { class: "line total" }, el("span", {}, "Balance"), el("span", {}, String(r.balanceAfter))),
    line("Tier", r.tier.name + (r.tierChanged ? " (new!)" : "")),
    ...r.rewardsUnlocked.map((reward) => line("Unlocked", reward.name)),
  );
  $("receipts").prepend(card);
  document.body.dataset.receipts = String($("receipts").children.length);
}

const key = demoKey();
if (!key) {
  $("problem").textContent = "Open this page with ?key=<an API key with loyalty:read> (development demo only).";
} else {
  const client = connect({ key, onStatus: (status) => ($("status").textContent = status) });
  client.subscribe(RECEIPTS, { storeId, registerId }, {
    next: (payload) => payload.data && render(payload.data.receipts),
    error: (errors) => ($("problem").textContent = errors[0]?.message ?? "Something went wrong."),
  });
}
