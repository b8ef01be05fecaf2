// Kiosk: watch one member's balance, tier, progress and rewards live.
import { connect, demoKey, el } from "/demo/live.js";

const WATCH = `subscription Kiosk($identifier: IdentifierInput!) {
  profileUpdates(identifier: $identifier) {
    kind version tierChanged
    entry { type points reason }
    rewardsUnlocked { id name }
    profile {
      id firstName
      loyalty { balance pendingPoints tier { name } nextTier { name } pointsToNextTier tierProgress }
      availableRewards { id name cost }
    }
  }
}`;

const $ = (id) => document.getElementById(id);
const key = demoKey();
const client = connect({ key, onStatus: (status) => ($("status").textContent = status) });
let stop = null;
let shown = 0;

function identifierOf(text) {
  const value = text.trim();
  return value.includes("@") ? { type: "EMAIL", value } : { type: "LOYALTY_CARD", value };
}

function render(update) {
  const { profile } = update;
  const account = profile.loyalty;
  if (update.version < shown) return; // an older message overtaken by a newer one
  shown = update.version;
  $("card").hidden = false;
  $("problem").textContent = "";
  $("name").textContent = profile.firstName || "member";
  $("balance").textContent = account.balance.toLocaleString();
  $("pending").textContent = account.pendingPoints.toLocaleString();
  $("tier").textContent = account.tier.name;
  $("next").textContent = account.nextTier
    ? `${account.pointsToNextTier.toLocaleString()} points to ${account.nextTier.name}`
    : "Top tier";
  $("progress").style.width = `${Math.round(account.tierProgress * 100)}%`;
  $("version").textContent = update.version;
  if (update.entry) {
    const sign = update.entry.points > 0 ? "+" : "";
    $("last").textContent = `${sign}${update.entry.points} points · ${update.kind.replaceAll("_", " ").toLowerCase()}`;
  }
  const unlocked = new Set(update.rewardsUnlocked.map((r) => r.id));
  $("rewards").replaceChildren(
    ...(profile.availableRewards.length
      ? profile.availableRewards.map((r) =>
          el("li", {}, `${r.name} · ${r.cost} points${unlocked.has(r.id) ? " · new!" : ""}`))
      : [el("li", {}, "Keep earning to unlock rewards.")]),
  );
  const card = $("card");
  card.classList.remove("flash");
  void card.offsetWidth; // restart the animation
  card.classList.add("flash");
  document.body.dataset.version = String(update.version);
}

function watch(identifier) {
  stop?.();
  shown = 0;
  stop = client.subscribe(WATCH, { identifier }, {
    next: (payload) => {
      if (payload.errors) $("problem").textContent = payload.errors[0].message;
      if (payload.data) render(payload.data.profileUpdates);
    },
    error: (errors) => {
      $("card").hidden = true;
      $("problem").textContent = errors[0]?.extensions?.code === "NOT_FOUND"
        ? "We could not find that card or email."
        : (errors[0]?.message ?? "Something went wrong.");
    },
  });
}

$("lookup").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("identifier").value;
  if (text.trim()) watch(identifierOf(text));
  $("identifier").value = "";
});

$("done").addEventListener("click", () => {
  stop?.();
  stop = null;
  $("card").hidden = true;
  delete document.body.dataset.version;
  $("identifier").focus();
});

if (!key) $("problem").textContent = "Open this page with ?key=<a kiosk API key> (development demo only).";
