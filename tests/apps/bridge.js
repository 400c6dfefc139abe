// The host side of the MCP Apps bridge, from @modelcontextprotocol/ext-apps, bundled for the test host page.
export { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";
