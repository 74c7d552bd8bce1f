/** Example payloads from a JSON Schema: the one generator lives in the runtime (runtime/schema-example.ts). */
export { exampleFor, type ExampleOptions } from "../../runtime/schema-example.ts";
