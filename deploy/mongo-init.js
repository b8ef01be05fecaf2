// Runs once, when the mongo container first initialises its data volume: the API's
// own user, allowed to read and write its database and nothing else.
db.getSiblingDB("cdp").createUser({
  user: "cdp",
  pwd: process.env.CDP_MONGO_PASSWORD,
  roles: [{ role: "readWrite", db: "cdp" }],
});
