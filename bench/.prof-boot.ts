import { bootFleet } from "../test/helpers/testhosts.ts";
import { devStackConfig } from "./peers/render.ts";
const f = bootFleet(["peer-fleet"]);
console.log(JSON.stringify({ commit: f.commit, config: devStackConfig({ hostName: "peer-fleet" }) }));
