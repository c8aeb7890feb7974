import { describe, expect, it } from "vitest";
import { mariaAccount, mariaIdent, mariaLiteral, sqlIdent, sqlLiteral } from "../../lib/sql.ts";

describe("lib/sql.ts quoting", () => {
  const cases: Array<[string, (s: string) => string, string, string]> = [
    ["pg literal, plain", sqlLiteral, "shop", "'shop'"],
    ["pg literal, quote doubled", sqlLiteral, "it's", "'it''s'"],
    ["pg literal, backslash kept", sqlLiteral, "a\\b", "'a\\b'"],
    ["pg literal, empty", sqlLiteral, "", "''"],
    ["pg ident, plain", sqlIdent, "shop_user", '"shop_user"'],
    ["pg ident, double quote doubled", sqlIdent, 'a"b', '"a""b"'],
    ["pg ident, single quote kept", sqlIdent, "a'b", '"a\'b"'],
    ["pg ident, empty", sqlIdent, "", '""'],
    ["maria literal, plain", mariaLiteral, "10.0.0.11", "'10.0.0.11'"],
    ["maria literal, quote doubled", mariaLiteral, "it's", "'it''s'"],
    ["maria literal, backslash doubled", mariaLiteral, "a\\b", "'a\\\\b'"],
    ["maria literal, backslash then quote", mariaLiteral, "\\'", "'\\\\'''"],
    ["maria ident, plain", mariaIdent, "shop", "`shop`"],
    ["maria ident, backtick doubled", mariaIdent, "a`b", "`a``b`"],
  ];
  for (const [label, quote, value, expected] of cases) {
    it(label, () => expect(quote(value)).toBe(expected));
  }

  it("mariaAccount quotes both halves as literals", () => {
    expect(mariaAccount("shop", "10.0.0.11")).toBe("'shop'@'10.0.0.11'");
    expect(mariaAccount("o'k", "h\\x")).toBe("'o''k'@'h\\\\x'");
  });

  // The config allows database names and users of [a-z_][a-z0-9_]*, and addresses of
  // letters, digits, `.`, `-` and `:`: for them the quoted form is the name in quotes,
  // which keeps the SQL the components wrote by hand before this helper byte for byte.
  const allowed = ["shop", "shop_user", "_x", "a1", "fleet_rep1", "replicator", "localhost", "127.0.0.1", "10.0.0.11", "fd00::11", "db-1.example"];
  for (const name of allowed) {
    it(`an allowed name is only wrapped: ${name}`, () => {
      expect(sqlLiteral(name)).toBe(`'${name}'`);
      expect(sqlIdent(name)).toBe(`"${name}"`);
      expect(mariaLiteral(name)).toBe(`'${name}'`);
      expect(mariaIdent(name)).toBe(`\`${name}\``);
    });
  }
});
