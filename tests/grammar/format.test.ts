import { test } from "uvu";
import * as assert from "uvu/assert";
import { format } from "../../grammar/format.js";
import { parse } from "../../grammar/parse.js";

const messy = `# leading file comment

peft   1
# the model
model llama { path = "./m" }      # checked against config.json
adapter chat: lora {   # open
  r = 8
      alpha = 16


  # targets
  target "layers.*.self_attn.{q,k,v,o}_proj"
  target "layers.[16..31].mlp.*_proj" { r = 16  alpha = 32 }   # per-target override
  exclude "layers.0.**",/model\\.layers\\.1\\..*/
  layers = [0..3, 8,]
  modules_to_save = ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "cccccccccccccccccccccccccc"]
  # dangling
}
train chat { data = "d.jsonl" { format = completion } steps = 10 }
# end
`;

const canonical = `# leading file comment

peft 1

# the model
model llama { path = "./m" }  # checked against config.json

adapter chat: lora {  # open
  r = 8
  alpha = 16

  # targets
  target "layers.*.self_attn.{q,k,v,o}_proj"
  target "layers.[16..31].mlp.*_proj" { r = 16  alpha = 32 }  # per-target override
  exclude "layers.0.**", /model\\.layers\\.1\\..*/
  layers = [0..3, 8]
  modules_to_save = [
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    "cccccccccccccccccccccccccc",
  ]
  # dangling
}

train chat {
  data = "d.jsonl" { format = completion }
  steps = 10
}
# end
`;

test("fmt writes the canonical layout and keeps comments", () => {
  const parsed = parse(messy);
  assert.ok(parsed.ast, parsed.diagnostics.map((d) => d.message).join("\n"));
  assert.fixture(format(parsed.ast!), canonical);
});

test("a comment on a one-line adapter moves to the opening line when the block expands", () => {
  const text = "peft 1\nadapter a: lora { target \"q\" }  # why\nadapter b: lora {\n  target \"k\"\n}  # end of b\n";
  const once = format(parse(text).ast!);
  assert.fixture(once, "peft 1\n\nadapter a: lora {  # why\n  target \"q\"\n}\n\nadapter b: lora {\n  target \"k\"\n}  # end of b\n");
  assert.fixture(format(parse(once).ast!), once);
});

test.run();
