export default { fetch() { return "hello" } }
