// GENERATED from CONFIG_SCHEMA (schema.ts) by validator-gen.ts: do not edit.
// Regenerate with `npm run gen:config-validator`; test/config/validator-gen.test.ts
// fails while this file is out of date with the schema.
// @ts-nocheck
/* eslint-disable */
import { createRequire } from 'node:module';
// ajv's runtime helpers (e.g. ajv/dist/runtime/ucs2length for minLength) are
// required by the generated code; they are small files, not ajv itself.
const require = createRequire(import.meta.url);
"use strict";
export const validate = validate10;
export default validate10;
const schema11 = {"$id":"https://ferry.io/config.json","type":"object","additionalProperties":false,"properties":{"mirror":{"type":"object","additionalProperties":false,"properties":{"registry":{"type":"string","minLength":1},"insecure":{"type":"boolean"},"prefix":{"type":"string","pattern":"^([a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*)?$"}}},"rewrite":{"type":"object","additionalProperties":false,"properties":{"mode":{"enum":["off","mirrored","always","enforce"]},"pinDigest":{"type":"boolean"},"include":{"type":"array","items":{"type":"string"}},"exclude":{"type":"array","items":{"type":"string"}},"namespaces":{"type":"object","additionalProperties":{"enum":["off","mirrored","always","enforce"]}}}},"pullPolicy":{"type":"object","additionalProperties":false,"properties":{"default":{"enum":["Always","IfNotPresent","Never"]},"force":{"type":"boolean"},"allowOverride":{"type":"boolean"},"namespaces":{"type":"object","additionalProperties":{"enum":["Always","IfNotPresent","Never"]}}}},"block":{"type":"array","items":{"type":"object","additionalProperties":false,"required":["reason"],"properties":{"pattern":{"type":"string","minLength":1},"digest":{"type":"string","pattern":"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$"},"reason":{"type":"string","minLength":1}},"oneOf":[{"required":["pattern"]},{"required":["digest"]}]}},"verify":{"type":"array","items":{"type":"object","additionalProperties":false,"required":["pattern","keys","mode"],"properties":{"pattern":{"type":"string","minLength":1},"keys":{"type":"array","minItems":1,"items":{"type":"string","minLength":1}},"mode":{"enum":["enforce","warn"]}}}},"registries":{"type":"object","additionalProperties":{"type":"object","additionalProperties":false,"properties":{"endpoint":{"type":"string","pattern":"^https?://"},"credentialsFile":{"type":"string"},"username":{"type":"string"},"password":{"type":"string"},"insecure":{"type":"boolean"},"requestsPerSecond":{"type":"number","exclusiveMinimum":0,"description":"A fixed request rate for this registry (token bucket), on top of its adaptive concurrency gate"},"pullLimit":{"type":"object","additionalProperties":false,"description":"The pull budget ferry keeps: at most count manifest GETs per windowSeconds (HEADs and blobs do not count; the registry counts only pulls). Docker Hub default: count 100 anonymous, 200 with credentials, windowSeconds 21600 (each the default when left out); count 0 turns ferry's own count off. Live ratelimit-* headers always win","properties":{"count":{"type":"integer","minimum":0},"windowSeconds":{"type":"integer","minimum":1}}},"credentialsFromPods":{"type":"boolean"},"shareWith":{"type":"array","items":{"type":"string"}}}}},"queue":{"type":"object","additionalProperties":false,"properties":{"redisUrl":{"type":"string","pattern":"^(rediss?|redis\\+sentinel|rediss?\\+cluster)://"},"prefix":{"type":"string","pattern":"^([A-Za-z0-9_.-]+|[A-Za-z0-9_.-]*\\{[A-Za-z0-9_.-]+\\}[A-Za-z0-9_.-]*)$"},"concurrency":{"type":"integer","minimum":1},"maxAttempts":{"type":"integer","minimum":1},"backoff":{"type":"object","additionalProperties":false,"properties":{"initialMs":{"type":"integer","minimum":1},"maxMs":{"type":"integer","minimum":1,"maximum":600000}}},"lockMs":{"type":"integer","minimum":5000}}},"copy":{"type":"object","additionalProperties":false,"properties":{"platforms":{"type":"array","items":{"type":"string","pattern":"^[a-z0-9_.-]+/[a-z0-9_.-]+(/[a-z0-9_.-]+)?$"}},"layerConcurrency":{"type":"integer","minimum":1},"requestsPerSecond":{"type":"number","minimum":0,"description":"A fixed request rate for every upstream (token bucket) on top of its adaptive gate; 0 (default) = the adaptive gate alone"},"timeoutMs":{"type":"integer","minimum":1},"referrers":{"type":"boolean"},"referrerArtifactTypes":{"type":"array","items":{"type":"string"}},"platformMode":{"enum":["auto","full","sparse","strip"]}}},"watch":{"type":"array","items":{"type":"object","additionalProperties":false,"required":["image","strategy","schedule"],"properties":{"id":{"type":"string","pattern":"^[A-Za-z0-9_.-]+$"},"image":{"type":"string","minLength":1},"tag":{"type":"string"},"strategy":{"enum":["digest","semver","newest","alphabetical"]},"constraint":{"type":"string"},"prerelease":{"type":"boolean"},"allowTags":{"type":"string"},"ignoreTags":{"type":"array","items":{"type":"string"}},"schedule":{"type":"string","minLength":1},"keep":{"type":"integer","minimum":0},"cacheBy":{"enum":["tag","digest"]},"alias":{"type":"string","pattern":"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"}}}},"import":{"type":"object","additionalProperties":false,"properties":{"dir":{"type":"string"},"stableMs":{"type":"integer","minimum":0}}},"agent":{"type":"object","additionalProperties":false,"properties":{"criSocket":{"type":"string","minLength":1},"containerdSocket":{"type":"string"},"namespace":{"type":"string","minLength":1},"snapshotter":{"type":"string","minLength":1},"prepull":{"type":"array","items":{"type":"object","additionalProperties":false,"required":["image"],"properties":{"image":{"type":"string","minLength":1},"nodeSelector":{"type":"object","additionalProperties":{"type":"string"}}}}},"pullConcurrency":{"type":"integer","minimum":1},"prepullInUse":{"type":"boolean"},"prepullWorkloads":{"type":"boolean"},"importDir":{"type":"string"},"stableMs":{"type":"integer","minimum":0},"stateFile":{"type":"string"},"startupTaint":{"type":"string"},"backoff":{"type":"object","additionalProperties":false,"properties":{"initialMs":{"type":"integer","minimum":1},"maxMs":{"type":"integer","minimum":1}}},"resyncMs":{"type":"integer","minimum":1}}},"webhook":{"type":"object","additionalProperties":false,"properties":{"port":{"type":"integer","minimum":0,"maximum":65535},"host":{"type":"string"},"certFile":{"type":"string"},"keyFile":{"type":"string"},"failClosed":{"type":"boolean"},"bodyLimit":{"type":"integer","minimum":1},"bufferLimit":{"type":"integer","minimum":1}}},"dashboard":{"type":"object","additionalProperties":false,"properties":{"port":{"type":"integer","minimum":0,"maximum":65535},"host":{"type":"string"},"token":{"type":"string"}}},"hooks":{"type":"object","additionalProperties":false,"properties":{"secret":{"type":"string"}}},"notify":{"type":"array","items":{"type":"object","additionalProperties":false,"required":["url"],"properties":{"url":{"type":"string","pattern":"^https?://"},"events":{"type":"array","minItems":1,"items":{"enum":["tagMoved","drifted","mirrored","error"]}},"secret":{"type":"string"}}}},"gc":{"type":"object","additionalProperties":false,"properties":{"enabled":{"type":"boolean"},"unusedFor":{"type":"string","pattern":"^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+$"},"schedule":{"type":"string","minLength":1},"dryRun":{"type":"boolean"},"keepUnusedFor":{"type":"string","pattern":"^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+$"}}},"refresh":{"type":"object","additionalProperties":false,"properties":{"schedule":{"type":"string"},"inUseOnly":{"type":"boolean"},"maxRequestsPerRegistry":{"type":"integer","minimum":1}}},"log":{"type":"object","additionalProperties":false,"properties":{"level":{"enum":["trace","debug","info","warn","error","fatal","silent"]}}},"kubernetes":{"type":"object","additionalProperties":false,"properties":{"namespaceInformer":{"enum":["auto","off"]},"podInformer":{"enum":["auto","off"]},"events":{"type":"boolean"},"imageWatches":{"enum":["auto","off"]}}}}};
const func2 = Object.prototype.hasOwnProperty;
const func3 = require("ajv/dist/runtime/ucs2length").default;
const pattern0 = new RegExp("^([a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*)?$", "u");
const pattern1 = new RegExp("^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$", "u");
const pattern2 = new RegExp("^https?://", "u");
const pattern3 = new RegExp("^(rediss?|redis\\+sentinel|rediss?\\+cluster)://", "u");
const pattern4 = new RegExp("^([A-Za-z0-9_.-]+|[A-Za-z0-9_.-]*\\{[A-Za-z0-9_.-]+\\}[A-Za-z0-9_.-]*)$", "u");
const pattern5 = new RegExp("^[a-z0-9_.-]+/[a-z0-9_.-]+(/[a-z0-9_.-]+)?$", "u");
const pattern6 = new RegExp("^[A-Za-z0-9_.-]+$", "u");
const pattern7 = new RegExp("^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$", "u");
const pattern9 = new RegExp("^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+$", "u");

function validate10(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
/*# sourceURL="https://ferry.io/config.json" */;
let vErrors = null;
let errors = 0;
if(data && typeof data == "object" && !Array.isArray(data)){
for(const key0 in data){
if(!(func2.call(schema11.properties, key0))){
const err0 = {instancePath,schemaPath:"#/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key0},message:"must NOT have additional properties"};
if(vErrors === null){
vErrors = [err0];
}
else {
vErrors.push(err0);
}
errors++;
}
}
if(data.mirror !== undefined){
let data0 = data.mirror;
if(data0 && typeof data0 == "object" && !Array.isArray(data0)){
for(const key1 in data0){
if(!(((key1 === "registry") || (key1 === "insecure")) || (key1 === "prefix"))){
const err1 = {instancePath:instancePath+"/mirror",schemaPath:"#/properties/mirror/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key1},message:"must NOT have additional properties"};
if(vErrors === null){
vErrors = [err1];
}
else {
vErrors.push(err1);
}
errors++;
}
}
if(data0.registry !== undefined){
let data1 = data0.registry;
if(typeof data1 === "string"){
if(func3(data1) < 1){
const err2 = {instancePath:instancePath+"/mirror/registry",schemaPath:"#/properties/mirror/properties/registry/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};
if(vErrors === null){
vErrors = [err2];
}
else {
vErrors.push(err2);
}
errors++;
}
}
else {
const err3 = {instancePath:instancePath+"/mirror/registry",schemaPath:"#/properties/mirror/properties/registry/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err3];
}
else {
vErrors.push(err3);
}
errors++;
}
}
if(data0.insecure !== undefined){
if(typeof data0.insecure !== "boolean"){
const err4 = {instancePath:instancePath+"/mirror/insecure",schemaPath:"#/properties/mirror/properties/insecure/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
if(vErrors === null){
vErrors = [err4];
}
else {
vErrors.push(err4);
}
errors++;
}
}
if(data0.prefix !== undefined){
let data3 = data0.prefix;
if(typeof data3 === "string"){
if(!pattern0.test(data3)){
const err5 = {instancePath:instancePath+"/mirror/prefix",schemaPath:"#/properties/mirror/properties/prefix/pattern",keyword:"pattern",params:{pattern: "^([a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*)?$"},message:"must match pattern \""+"^([a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*)?$"+"\""};
if(vErrors === null){
vErrors = [err5];
}
else {
vErrors.push(err5);
}
errors++;
}
}
else {
const err6 = {instancePath:instancePath+"/mirror/prefix",schemaPath:"#/properties/mirror/properties/prefix/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err6];
}
else {
vErrors.push(err6);
}
errors++;
}
}
}
else {
const err7 = {instancePath:instancePath+"/mirror",schemaPath:"#/properties/mirror/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err7];
}
else {
vErrors.push(err7);
}
errors++;
}
}
if(data.rewrite !== undefined){
let data4 = data.rewrite;
if(data4 && typeof data4 == "object" && !Array.isArray(data4)){
for(const key2 in data4){
if(!(((((key2 === "mode") || (key2 === "pinDigest")) || (key2 === "include")) || (key2 === "exclude")) || (key2 === "namespaces"))){
const err8 = {instancePath:instancePath+"/rewrite",schemaPath:"#/properties/rewrite/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key2},message:"must NOT have additional properties"};
if(vErrors === null){
vErrors = [err8];
}
else {
vErrors.push(err8);
}
errors++;
}
}
if(data4.mode !== undefined){
let data5 = data4.mode;
if(!((((data5 === "off") || (data5 === "mirrored")) || (data5 === "always")) || (data5 === "enforce"))){
const err9 = {instancePath:instancePath+"/rewrite/mode",schemaPath:"#/properties/rewrite/properties/mode/enum",keyword:"enum",params:{allowedValues: schema11.properties.rewrite.properties.mode.enum},message:"must be equal to one of the allowed values"};
if(vErrors === null){
vErrors = [err9];
}
else {
vErrors.push(err9);
}
errors++;
}
}
if(data4.pinDigest !== undefined){
if(typeof data4.pinDigest !== "boolean"){
const err10 = {instancePath:instancePath+"/rewrite/pinDigest",schemaPath:"#/properties/rewrite/properties/pinDigest/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
if(vErrors === null){
vErrors = [err10];
}
else {
vErrors.push(err10);
}
errors++;
}
}
if(data4.include !== undefined){
let data7 = data4.include;
if(Array.isArray(data7)){
const len0 = data7.length;
for(let i0=0; i0<len0; i0++){
if(typeof data7[i0] !== "string"){
const err11 = {instancePath:instancePath+"/rewrite/include/" + i0,schemaPath:"#/properties/rewrite/properties/include/items/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err11];
}
else {
vErrors.push(err11);
}
errors++;
}
}
}
else {
const err12 = {instancePath:instancePath+"/rewrite/include",schemaPath:"#/properties/rewrite/properties/include/type",keyword:"type",params:{type: "array"},message:"must be array"};
if(vErrors === null){
vErrors = [err12];
}
else {
vErrors.push(err12);
}
errors++;
}
}
if(data4.exclude !== undefined){
let data9 = data4.exclude;
if(Array.isArray(data9)){
const len1 = data9.length;
for(let i1=0; i1<len1; i1++){
if(typeof data9[i1] !== "string"){
const err13 = {instancePath:instancePath+"/rewrite/exclude/" + i1,schemaPath:"#/properties/rewrite/properties/exclude/items/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err13];
}
else {
vErrors.push(err13);
}
errors++;
}
}
}
else {
const err14 = {instancePath:instancePath+"/rewrite/exclude",schemaPath:"#/properties/rewrite/properties/exclude/type",keyword:"type",params:{type: "array"},message:"must be array"};
if(vErrors === null){
vErrors = [err14];
}
else {
vErrors.push(err14);
}
errors++;
}
}
if(data4.namespaces !== undefined){
let data11 = data4.namespaces;
if(data11 && typeof data11 == "object" && !Array.isArray(data11)){
for(const key3 in data11){
let data12 = data11[key3];
if(!((((data12 === "off") || (data12 === "mirrored")) || (data12 === "always")) || (data12 === "enforce"))){
const err15 = {instancePath:instancePath+"/rewrite/namespaces/" + key3.replace(/~/g, "~0").replace(/\//g, "~1"),schemaPath:"#/properties/rewrite/properties/namespaces/additionalProperties/enum",keyword:"enum",params:{allowedValues: schema11.properties.rewrite.properties.namespaces.additionalProperties.enum},message:"must be equal to one of the allowed values"};
if(vErrors === null){
vErrors = [err15];
}
else {
vErrors.push(err15);
}
errors++;
}
}
}
else {
const err16 = {instancePath:instancePath+"/rewrite/namespaces",schemaPath:"#/properties/rewrite/properties/namespaces/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err16];
}
else {
vErrors.push(err16);
}
errors++;
}
}
}
else {
const err17 = {instancePath:instancePath+"/rewrite",schemaPath:"#/properties/rewrite/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err17];
}
else {
vErrors.push(err17);
}
errors++;
}
}
if(data.pullPolicy !== undefined){
let data13 = data.pullPolicy;
if(data13 && typeof data13 == "object" && !Array.isArray(data13)){
for(const key4 in data13){
if(!((((key4 === "default") || (key4 === "force")) || (key4 === "allowOverride")) || (key4 === "namespaces"))){
const err18 = {instancePath:instancePath+"/pullPolicy",schemaPath:"#/properties/pullPolicy/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key4},message:"must NOT have additional properties"};
if(vErrors === null){
vErrors = [err18];
}
else {
vErrors.push(err18);
}
errors++;
}
}
if(data13.default !== undefined){
let data14 = data13.default;
if(!(((data14 === "Always") || (data14 === "IfNotPresent")) || (data14 === "Never"))){
const err19 = {instancePath:instancePath+"/pullPolicy/default",schemaPath:"#/properties/pullPolicy/properties/default/enum",keyword:"enum",params:{allowedValues: schema11.properties.pullPolicy.properties.default.enum},message:"must be equal to one of the allowed values"};
if(vErrors === null){
vErrors = [err19];
}
else {
vErrors.push(err19);
}
errors++;
}
}
if(data13.force !== undefined){
if(typeof data13.force !== "boolean"){
const err20 = {instancePath:instancePath+"/pullPolicy/force",schemaPath:"#/properties/pullPolicy/properties/force/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
if(vErrors === null){
vErrors = [err20];
}
else {
vErrors.push(err20);
}
errors++;
}
}
if(data13.allowOverride !== undefined){
if(typeof data13.allowOverride !== "boolean"){
const err21 = {instancePath:instancePath+"/pullPolicy/allowOverride",schemaPath:"#/properties/pullPolicy/properties/allowOverride/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
if(vErrors === null){
vErrors = [err21];
}
else {
vErrors.push(err21);
}
errors++;
}
}
if(data13.namespaces !== undefined){
let data17 = data13.namespaces;
if(data17 && typeof data17 == "object" && !Array.isArray(data17)){
for(const key5 in data17){
let data18 = data17[key5];
if(!(((data18 === "Always") || (data18 === "IfNotPresent")) || (data18 === "Never"))){
const err22 = {instancePath:instancePath+"/pullPolicy/namespaces/" + key5.replace(/~/g, "~0").replace(/\//g, "~1"),schemaPath:"#/properties/pullPolicy/properties/namespaces/additionalProperties/enum",keyword:"enum",params:{allowedValues: schema11.properties.pullPolicy.properties.namespaces.additionalProperties.enum},message:"must be equal to one of the allowed values"};
if(vErrors === null){
vErrors = [err22];
}
else {
vErrors.push(err22);
}
errors++;
}
}
}
else {
const err23 = {instancePath:instancePath+"/pullPolicy/namespaces",schemaPath:"#/properties/pullPolicy/properties/namespaces/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err23];
}
else {
vErrors.push(err23);
}
errors++;
}
}
}
else {
const err24 = {instancePath:instancePath+"/pullPolicy",schemaPath:"#/properties/pullPolicy/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err24];
}
else {
vErrors.push(err24);
}
errors++;
}
}
if(data.block !== undefined){
let data19 = data.block;
if(Array.isArray(data19)){
const len2 = data19.length;
for(let i2=0; i2<len2; i2++){
let data20 = data19[i2];
const _errs45 = errors;
let valid12 = false;
let passing0 = null;
const _errs46 = errors;
if(data20 && typeof data20 == "object" && !Array.isArray(data20)){
if(data20.pattern === undefined){
const err25 = {instancePath:instancePath+"/block/" + i2,schemaPath:"#/properties/block/items/oneOf/0/required",keyword:"required",params:{missingProperty: "pattern"},message:"must have required property '"+"pattern"+"'"};
if(vErrors === null){
vErrors = [err25];
}
else {
vErrors.push(err25);
}
errors++;
}
}
var _valid0 = _errs46 === errors;
if(_valid0){
valid12 = true;
passing0 = 0;
}
const _errs47 = errors;
if(data20 && typeof data20 == "object" && !Array.isArray(data20)){
if(data20.digest === undefined){
const err26 = {instancePath:instancePath+"/block/" + i2,schemaPath:"#/properties/block/items/oneOf/1/required",keyword:"required",params:{missingProperty: "digest"},message:"must have required property '"+"digest"+"'"};
if(vErrors === null){
vErrors = [err26];
}
else {
vErrors.push(err26);
}
errors++;
}
}
var _valid0 = _errs47 === errors;
if(_valid0 && valid12){
valid12 = false;
passing0 = [passing0, 1];
}
else {
if(_valid0){
valid12 = true;
passing0 = 1;
}
}
if(!valid12){
const err27 = {instancePath:instancePath+"/block/" + i2,schemaPath:"#/properties/block/items/oneOf",keyword:"oneOf",params:{passingSchemas: passing0},message:"must match exactly one schema in oneOf"};
if(vErrors === null){
vErrors = [err27];
}
else {
vErrors.push(err27);
}
errors++;
}
else {
errors = _errs45;
if(vErrors !== null){
if(_errs45){
vErrors.length = _errs45;
}
else {
vErrors = null;
}
}
}
if(data20 && typeof data20 == "object" && !Array.isArray(data20)){
if(data20.reason === undefined){
const err28 = {instancePath:instancePath+"/block/" + i2,schemaPath:"#/properties/block/items/required",keyword:"required",params:{missingProperty: "reason"},message:"must have required property '"+"reason"+"'"};
if(vErrors === null){
vErrors = [err28];
}
else {
vErrors.push(err28);
}
errors++;
}
for(const key6 in data20){
if(!(((key6 === "pattern") || (key6 === "digest")) || (key6 === "reason"))){
const err29 = {instancePath:instancePath+"/block/" + i2,schemaPath:"#/properties/block/items/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key6},message:"must NOT have additional properties"};
if(vErrors === null){
vErrors = [err29];
}
else {
vErrors.push(err29);
}
errors++;
}
}
if(data20.pattern !== undefined){
let data21 = data20.pattern;
if(typeof data21 === "string"){
if(func3(data21) < 1){
const err30 = {instancePath:instancePath+"/block/" + i2+"/pattern",schemaPath:"#/properties/block/items/properties/pattern/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};
if(vErrors === null){
vErrors = [err30];
}
else {
vErrors.push(err30);
}
errors++;
}
}
else {
const err31 = {instancePath:instancePath+"/block/" + i2+"/pattern",schemaPath:"#/properties/block/items/properties/pattern/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err31];
}
else {
vErrors.push(err31);
}
errors++;
}
}
if(data20.digest !== undefined){
let data22 = data20.digest;
if(typeof data22 === "string"){
if(!pattern1.test(data22)){
const err32 = {instancePath:instancePath+"/block/" + i2+"/digest",schemaPath:"#/properties/block/items/properties/digest/pattern",keyword:"pattern",params:{pattern: "^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$"},message:"must match pattern \""+"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$"+"\""};
if(vErrors === null){
vErrors = [err32];
}
else {
vErrors.push(err32);
}
errors++;
}
}
else {
const err33 = {instancePath:instancePath+"/block/" + i2+"/digest",schemaPath:"#/properties/block/items/properties/digest/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err33];
}
else {
vErrors.push(err33);
}
errors++;
}
}
if(data20.reason !== undefined){
let data23 = data20.reason;
if(typeof data23 === "string"){
if(func3(data23) < 1){
const err34 = {instancePath:instancePath+"/block/" + i2+"/reason",schemaPath:"#/properties/block/items/properties/reason/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};
if(vErrors === null){
vErrors = [err34];
}
else {
vErrors.push(err34);
}
errors++;
}
}
else {
const err35 = {instancePath:instancePath+"/block/" + i2+"/reason",schemaPath:"#/properties/block/items/properties/reason/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err35];
}
else {
vErrors.push(err35);
}
errors++;
}
}
}
else {
const err36 = {instancePath:instancePath+"/block/" + i2,schemaPath:"#/properties/block/items/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err36];
}
else {
vErrors.push(err36);
}
errors++;
}
}
}
else {
const err37 = {instancePath:instancePath+"/block",schemaPath:"#/properties/block/type",keyword:"type",params:{type: "array"},message:"must be array"};
if(vErrors === null){
vErrors = [err37];
}
else {
vErrors.push(err37);
}
errors++;
}
}
if(data.verify !== undefined){
let data24 = data.verify;
if(Array.isArray(data24)){
const len3 = data24.length;
for(let i3=0; i3<len3; i3++){
let data25 = data24[i3];
if(data25 && typeof data25 == "object" && !Array.isArray(data25)){
if(data25.pattern === undefined){
const err38 = {instancePath:instancePath+"/verify/" + i3,schemaPath:"#/properties/verify/items/required",keyword:"required",params:{missingProperty: "pattern"},message:"must have required property '"+"pattern"+"'"};
if(vErrors === null){
vErrors = [err38];
}
else {
vErrors.push(err38);
}
errors++;
}
if(data25.keys === undefined){
const err39 = {instancePath:instancePath+"/verify/" + i3,schemaPath:"#/properties/verify/items/required",keyword:"required",params:{missingProperty: "keys"},message:"must have required property '"+"keys"+"'"};
if(vErrors === null){
vErrors = [err39];
}
else {
vErrors.push(err39);
}
errors++;
}
if(data25.mode === undefined){
const err40 = {instancePath:instancePath+"/verify/" + i3,schemaPath:"#/properties/verify/items/required",keyword:"required",params:{missingProperty: "mode"},message:"must have required property '"+"mode"+"'"};
if(vErrors === null){
vErrors = [err40];
}
else {
vErrors.push(err40);
}
errors++;
}
for(const key7 in data25){
if(!(((key7 === "pattern") || (key7 === "keys")) || (key7 === "mode"))){
const err41 = {instancePath:instancePath+"/verify/" + i3,schemaPath:"#/properties/verify/items/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key7},message:"must NOT have additional properties"};
if(vErrors === null){
vErrors = [err41];
}
else {
vErrors.push(err41);
}
errors++;
}
}
if(data25.pattern !== undefined){
let data26 = data25.pattern;
if(typeof data26 === "string"){
if(func3(data26) < 1){
const err42 = {instancePath:instancePath+"/verify/" + i3+"/pattern",schemaPath:"#/properties/verify/items/properties/pattern/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};
if(vErrors === null){
vErrors = [err42];
}
else {
vErrors.push(err42);
}
errors++;
}
}
else {
const err43 = {instancePath:instancePath+"/verify/" + i3+"/pattern",schemaPath:"#/properties/verify/items/properties/pattern/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err43];
}
else {
vErrors.push(err43);
}
errors++;
}
}
if(data25.keys !== undefined){
let data27 = data25.keys;
if(Array.isArray(data27)){
if(data27.length < 1){
const err44 = {instancePath:instancePath+"/verify/" + i3+"/keys",schemaPath:"#/properties/verify/items/properties/keys/minItems",keyword:"minItems",params:{limit: 1},message:"must NOT have fewer than 1 items"};
if(vErrors === null){
vErrors = [err44];
}
else {
vErrors.push(err44);
}
errors++;
}
const len4 = data27.length;
for(let i4=0; i4<len4; i4++){
let data28 = data27[i4];
if(typeof data28 === "string"){
if(func3(data28) < 1){
const err45 = {instancePath:instancePath+"/verify/" + i3+"/keys/" + i4,schemaPath:"#/properties/verify/items/properties/keys/items/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};
if(vErrors === null){
vErrors = [err45];
}
else {
vErrors.push(err45);
}
errors++;
}
}
else {
const err46 = {instancePath:instancePath+"/verify/" + i3+"/keys/" + i4,schemaPath:"#/properties/verify/items/properties/keys/items/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err46];
}
else {
vErrors.push(err46);
}
errors++;
}
}
}
else {
const err47 = {instancePath:instancePath+"/verify/" + i3+"/keys",schemaPath:"#/properties/verify/items/properties/keys/type",keyword:"type",params:{type: "array"},message:"must be array"};
if(vErrors === null){
vErrors = [err47];
}
else {
vErrors.push(err47);
}
errors++;
}
}
if(data25.mode !== undefined){
let data29 = data25.mode;
if(!((data29 === "enforce") || (data29 === "warn"))){
const err48 = {instancePath:instancePath+"/verify/" + i3+"/mode",schemaPath:"#/properties/verify/items/properties/mode/enum",keyword:"enum",params:{allowedValues: schema11.properties.verify.items.properties.mode.enum},message:"must be equal to one of the allowed values"};
if(vErrors === null){
vErrors = [err48];
}
else {
vErrors.push(err48);
}
errors++;
}
}
}
else {
const err49 = {instancePath:instancePath+"/verify/" + i3,schemaPath:"#/properties/verify/items/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err49];
}
else {
vErrors.push(err49);
}
errors++;
}
}
}
else {
const err50 = {instancePath:instancePath+"/verify",schemaPath:"#/properties/verify/type",keyword:"type",params:{type: "array"},message:"must be array"};
if(vErrors === null){
vErrors = [err50];
}
else {
vErrors.push(err50);
}
errors++;
}
}
if(data.registries !== undefined){
let data30 = data.registries;
if(data30 && typeof data30 == "object" && !Array.isArray(data30)){
for(const key8 in data30){
let data31 = data30[key8];
if(data31 && typeof data31 == "object" && !Array.isArray(data31)){
for(const key9 in data31){
if(!(func2.call(schema11.properties.registries.additionalProperties.properties, key9))){
const err51 = {instancePath:instancePath+"/registries/" + key8.replace(/~/g, "~0").replace(/\//g, "~1"),schemaPath:"#/properties/registries/additionalProperties/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key9},message:"must NOT have additional properties"};
if(vErrors === null){
vErrors = [err51];
}
else {
vErrors.push(err51);
}
errors++;
}
}
if(data31.endpoint !== undefined){
let data32 = data31.endpoint;
if(typeof data32 === "string"){
if(!pattern2.test(data32)){
const err52 = {instancePath:instancePath+"/registries/" + key8.replace(/~/g, "~0").replace(/\//g, "~1")+"/endpoint",schemaPath:"#/properties/registries/additionalProperties/properties/endpoint/pattern",keyword:"pattern",params:{pattern: "^https?://"},message:"must match pattern \""+"^https?://"+"\""};
if(vErrors === null){
vErrors = [err52];
}
else {
vErrors.push(err52);
}
errors++;
}
}
else {
const err53 = {instancePath:instancePath+"/registries/" + key8.replace(/~/g, "~0").replace(/\//g, "~1")+"/endpoint",schemaPath:"#/properties/registries/additionalProperties/properties/endpoint/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err53];
}
else {
vErrors.push(err53);
}
errors++;
}
}
if(data31.credentialsFile !== undefined){
if(typeof data31.credentialsFile !== "string"){
const err54 = {instancePath:instancePath+"/registries/" + key8.replace(/~/g, "~0").replace(/\//g, "~1")+"/credentialsFile",schemaPath:"#/properties/registries/additionalProperties/properties/credentialsFile/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err54];
}
else {
vErrors.push(err54);
}
errors++;
}
}
if(data31.username !== undefined){
if(typeof data31.username !== "string"){
const err55 = {instancePath:instancePath+"/registries/" + key8.replace(/~/g, "~0").replace(/\//g, "~1")+"/username",schemaPath:"#/properties/registries/additionalProperties/properties/username/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err55];
}
else {
vErrors.push(err55);
}
errors++;
}
}
if(data31.password !== undefined){
if(typeof data31.password !== "string"){
const err56 = {instancePath:instancePath+"/registries/" + key8.replace(/~/g, "~0").replace(/\//g, "~1")+"/password",schemaPath:"#/properties/registries/additionalProperties/properties/password/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err56];
}
else {
vErrors.push(err56);
}
errors++;
}
}
if(data31.insecure !== undefined){
if(typeof data31.insecure !== "boolean"){
const err57 = {instancePath:instancePath+"/registries/" + key8.replace(/~/g, "~0").replace(/\//g, "~1")+"/insecure",schemaPath:"#/properties/registries/additionalProperties/properties/insecure/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
if(vErrors === null){
vErrors = [err57];
}
else {
vErrors.push(err57);
}
errors++;
}
}
if(data31.requestsPerSecond !== undefined){
let data37 = data31.requestsPerSecond;
if(typeof data37 == "number"){
if(data37 <= 0 || isNaN(data37)){
const err58 = {instancePath:instancePath+"/registries/" + key8.replace(/~/g, "~0").replace(/\//g, "~1")+"/requestsPerSecond",schemaPath:"#/properties/registries/additionalProperties/properties/requestsPerSecond/exclusiveMinimum",keyword:"exclusiveMinimum",params:{comparison: ">", limit: 0},message:"must be > 0"};
if(vErrors === null){
vErrors = [err58];
}
else {
vErrors.push(err58);
}
errors++;
}
}
else {
const err59 = {instancePath:instancePath+"/registries/" + key8.replace(/~/g, "~0").replace(/\//g, "~1")+"/requestsPerSecond",schemaPath:"#/properties/registries/additionalProperties/properties/requestsPerSecond/type",keyword:"type",params:{type: "number"},message:"must be number"};
if(vErrors === null){
vErrors = [err59];
}
else {
vErrors.push(err59);
}
errors++;
}
}
if(data31.pullLimit !== undefined){
let data38 = data31.pullLimit;
if(data38 && typeof data38 == "object" && !Array.isArray(data38)){
for(const key10 in data38){
if(!((key10 === "count") || (key10 === "windowSeconds"))){
const err60 = {instancePath:instancePath+"/registries/" + key8.replace(/~/g, "~0").replace(/\//g, "~1")+"/pullLimit",schemaPath:"#/properties/registries/additionalProperties/properties/pullLimit/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key10},message:"must NOT have additional properties"};
if(vErrors === null){
vErrors = [err60];
}
else {
vErrors.push(err60);
}
errors++;
}
}
if(data38.count !== undefined){
let data39 = data38.count;
if(!((typeof data39 == "number") && (!(data39 % 1) && !isNaN(data39)))){
const err61 = {instancePath:instancePath+"/registries/" + key8.replace(/~/g, "~0").replace(/\//g, "~1")+"/pullLimit/count",schemaPath:"#/properties/registries/additionalProperties/properties/pullLimit/properties/count/type",keyword:"type",params:{type: "integer"},message:"must be integer"};
if(vErrors === null){
vErrors = [err61];
}
else {
vErrors.push(err61);
}
errors++;
}
if(typeof data39 == "number"){
if(data39 < 0 || isNaN(data39)){
const err62 = {instancePath:instancePath+"/registries/" + key8.replace(/~/g, "~0").replace(/\//g, "~1")+"/pullLimit/count",schemaPath:"#/properties/registries/additionalProperties/properties/pullLimit/properties/count/minimum",keyword:"minimum",params:{comparison: ">=", limit: 0},message:"must be >= 0"};
if(vErrors === null){
vErrors = [err62];
}
else {
vErrors.push(err62);
}
errors++;
}
}
}
if(data38.windowSeconds !== undefined){
let data40 = data38.windowSeconds;
if(!((typeof data40 == "number") && (!(data40 % 1) && !isNaN(data40)))){
const err63 = {instancePath:instancePath+"/registries/" + key8.replace(/~/g, "~0").replace(/\//g, "~1")+"/pullLimit/windowSeconds",schemaPath:"#/properties/registries/additionalProperties/properties/pullLimit/properties/windowSeconds/type",keyword:"type",params:{type: "integer"},message:"must be integer"};
if(vErrors === null){
vErrors = [err63];
}
else {
vErrors.push(err63);
}
errors++;
}
if(typeof data40 == "number"){
if(data40 < 1 || isNaN(data40)){
const err64 = {instancePath:instancePath+"/registries/" + key8.replace(/~/g, "~0").replace(/\//g, "~1")+"/pullLimit/windowSeconds",schemaPath:"#/properties/registries/additionalProperties/properties/pullLimit/properties/windowSeconds/minimum",keyword:"minimum",params:{comparison: ">=", limit: 1},message:"must be >= 1"};
if(vErrors === null){
vErrors = [err64];
}
else {
vErrors.push(err64);
}
errors++;
}
}
}
}
else {
const err65 = {instancePath:instancePath+"/registries/" + key8.replace(/~/g, "~0").replace(/\//g, "~1")+"/pullLimit",schemaPath:"#/properties/registries/additionalProperties/properties/pullLimit/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err65];
}
else {
vErrors.push(err65);
}
errors++;
}
}
if(data31.credentialsFromPods !== undefined){
if(typeof data31.credentialsFromPods !== "boolean"){
const err66 = {instancePath:instancePath+"/registries/" + key8.replace(/~/g, "~0").replace(/\//g, "~1")+"/credentialsFromPods",schemaPath:"#/properties/registries/additionalProperties/properties/credentialsFromPods/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
if(vErrors === null){
vErrors = [err66];
}
else {
vErrors.push(err66);
}
errors++;
}
}
if(data31.shareWith !== undefined){
let data42 = data31.shareWith;
if(Array.isArray(data42)){
const len5 = data42.length;
for(let i5=0; i5<len5; i5++){
if(typeof data42[i5] !== "string"){
const err67 = {instancePath:instancePath+"/registries/" + key8.replace(/~/g, "~0").replace(/\//g, "~1")+"/shareWith/" + i5,schemaPath:"#/properties/registries/additionalProperties/properties/shareWith/items/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err67];
}
else {
vErrors.push(err67);
}
errors++;
}
}
}
else {
const err68 = {instancePath:instancePath+"/registries/" + key8.replace(/~/g, "~0").replace(/\//g, "~1")+"/shareWith",schemaPath:"#/properties/registries/additionalProperties/properties/shareWith/type",keyword:"type",params:{type: "array"},message:"must be array"};
if(vErrors === null){
vErrors = [err68];
}
else {
vErrors.push(err68);
}
errors++;
}
}
}
else {
const err69 = {instancePath:instancePath+"/registries/" + key8.replace(/~/g, "~0").replace(/\//g, "~1"),schemaPath:"#/properties/registries/additionalProperties/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err69];
}
else {
vErrors.push(err69);
}
errors++;
}
}
}
else {
const err70 = {instancePath:instancePath+"/registries",schemaPath:"#/properties/registries/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err70];
}
else {
vErrors.push(err70);
}
errors++;
}
}
if(data.queue !== undefined){
let data44 = data.queue;
if(data44 && typeof data44 == "object" && !Array.isArray(data44)){
for(const key11 in data44){
if(!((((((key11 === "redisUrl") || (key11 === "prefix")) || (key11 === "concurrency")) || (key11 === "maxAttempts")) || (key11 === "backoff")) || (key11 === "lockMs"))){
const err71 = {instancePath:instancePath+"/queue",schemaPath:"#/properties/queue/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key11},message:"must NOT have additional properties"};
if(vErrors === null){
vErrors = [err71];
}
else {
vErrors.push(err71);
}
errors++;
}
}
if(data44.redisUrl !== undefined){
let data45 = data44.redisUrl;
if(typeof data45 === "string"){
if(!pattern3.test(data45)){
const err72 = {instancePath:instancePath+"/queue/redisUrl",schemaPath:"#/properties/queue/properties/redisUrl/pattern",keyword:"pattern",params:{pattern: "^(rediss?|redis\\+sentinel|rediss?\\+cluster)://"},message:"must match pattern \""+"^(rediss?|redis\\+sentinel|rediss?\\+cluster)://"+"\""};
if(vErrors === null){
vErrors = [err72];
}
else {
vErrors.push(err72);
}
errors++;
}
}
else {
const err73 = {instancePath:instancePath+"/queue/redisUrl",schemaPath:"#/properties/queue/properties/redisUrl/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err73];
}
else {
vErrors.push(err73);
}
errors++;
}
}
if(data44.prefix !== undefined){
let data46 = data44.prefix;
if(typeof data46 === "string"){
if(!pattern4.test(data46)){
const err74 = {instancePath:instancePath+"/queue/prefix",schemaPath:"#/properties/queue/properties/prefix/pattern",keyword:"pattern",params:{pattern: "^([A-Za-z0-9_.-]+|[A-Za-z0-9_.-]*\\{[A-Za-z0-9_.-]+\\}[A-Za-z0-9_.-]*)$"},message:"must match pattern \""+"^([A-Za-z0-9_.-]+|[A-Za-z0-9_.-]*\\{[A-Za-z0-9_.-]+\\}[A-Za-z0-9_.-]*)$"+"\""};
if(vErrors === null){
vErrors = [err74];
}
else {
vErrors.push(err74);
}
errors++;
}
}
else {
const err75 = {instancePath:instancePath+"/queue/prefix",schemaPath:"#/properties/queue/properties/prefix/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err75];
}
else {
vErrors.push(err75);
}
errors++;
}
}
if(data44.concurrency !== undefined){
let data47 = data44.concurrency;
if(!((typeof data47 == "number") && (!(data47 % 1) && !isNaN(data47)))){
const err76 = {instancePath:instancePath+"/queue/concurrency",schemaPath:"#/properties/queue/properties/concurrency/type",keyword:"type",params:{type: "integer"},message:"must be integer"};
if(vErrors === null){
vErrors = [err76];
}
else {
vErrors.push(err76);
}
errors++;
}
if(typeof data47 == "number"){
if(data47 < 1 || isNaN(data47)){
const err77 = {instancePath:instancePath+"/queue/concurrency",schemaPath:"#/properties/queue/properties/concurrency/minimum",keyword:"minimum",params:{comparison: ">=", limit: 1},message:"must be >= 1"};
if(vErrors === null){
vErrors = [err77];
}
else {
vErrors.push(err77);
}
errors++;
}
}
}
if(data44.maxAttempts !== undefined){
let data48 = data44.maxAttempts;
if(!((typeof data48 == "number") && (!(data48 % 1) && !isNaN(data48)))){
const err78 = {instancePath:instancePath+"/queue/maxAttempts",schemaPath:"#/properties/queue/properties/maxAttempts/type",keyword:"type",params:{type: "integer"},message:"must be integer"};
if(vErrors === null){
vErrors = [err78];
}
else {
vErrors.push(err78);
}
errors++;
}
if(typeof data48 == "number"){
if(data48 < 1 || isNaN(data48)){
const err79 = {instancePath:instancePath+"/queue/maxAttempts",schemaPath:"#/properties/queue/properties/maxAttempts/minimum",keyword:"minimum",params:{comparison: ">=", limit: 1},message:"must be >= 1"};
if(vErrors === null){
vErrors = [err79];
}
else {
vErrors.push(err79);
}
errors++;
}
}
}
if(data44.backoff !== undefined){
let data49 = data44.backoff;
if(data49 && typeof data49 == "object" && !Array.isArray(data49)){
for(const key12 in data49){
if(!((key12 === "initialMs") || (key12 === "maxMs"))){
const err80 = {instancePath:instancePath+"/queue/backoff",schemaPath:"#/properties/queue/properties/backoff/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key12},message:"must NOT have additional properties"};
if(vErrors === null){
vErrors = [err80];
}
else {
vErrors.push(err80);
}
errors++;
}
}
if(data49.initialMs !== undefined){
let data50 = data49.initialMs;
if(!((typeof data50 == "number") && (!(data50 % 1) && !isNaN(data50)))){
const err81 = {instancePath:instancePath+"/queue/backoff/initialMs",schemaPath:"#/properties/queue/properties/backoff/properties/initialMs/type",keyword:"type",params:{type: "integer"},message:"must be integer"};
if(vErrors === null){
vErrors = [err81];
}
else {
vErrors.push(err81);
}
errors++;
}
if(typeof data50 == "number"){
if(data50 < 1 || isNaN(data50)){
const err82 = {instancePath:instancePath+"/queue/backoff/initialMs",schemaPath:"#/properties/queue/properties/backoff/properties/initialMs/minimum",keyword:"minimum",params:{comparison: ">=", limit: 1},message:"must be >= 1"};
if(vErrors === null){
vErrors = [err82];
}
else {
vErrors.push(err82);
}
errors++;
}
}
}
if(data49.maxMs !== undefined){
let data51 = data49.maxMs;
if(!((typeof data51 == "number") && (!(data51 % 1) && !isNaN(data51)))){
const err83 = {instancePath:instancePath+"/queue/backoff/maxMs",schemaPath:"#/properties/queue/properties/backoff/properties/maxMs/type",keyword:"type",params:{type: "integer"},message:"must be integer"};
if(vErrors === null){
vErrors = [err83];
}
else {
vErrors.push(err83);
}
errors++;
}
if(typeof data51 == "number"){
if(data51 > 600000 || isNaN(data51)){
const err84 = {instancePath:instancePath+"/queue/backoff/maxMs",schemaPath:"#/properties/queue/properties/backoff/properties/maxMs/maximum",keyword:"maximum",params:{comparison: "<=", limit: 600000},message:"must be <= 600000"};
if(vErrors === null){
vErrors = [err84];
}
else {
vErrors.push(err84);
}
errors++;
}
if(data51 < 1 || isNaN(data51)){
const err85 = {instancePath:instancePath+"/queue/backoff/maxMs",schemaPath:"#/properties/queue/properties/backoff/properties/maxMs/minimum",keyword:"minimum",params:{comparison: ">=", limit: 1},message:"must be >= 1"};
if(vErrors === null){
vErrors = [err85];
}
else {
vErrors.push(err85);
}
errors++;
}
}
}
}
else {
const err86 = {instancePath:instancePath+"/queue/backoff",schemaPath:"#/properties/queue/properties/backoff/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err86];
}
else {
vErrors.push(err86);
}
errors++;
}
}
if(data44.lockMs !== undefined){
let data52 = data44.lockMs;
if(!((typeof data52 == "number") && (!(data52 % 1) && !isNaN(data52)))){
const err87 = {instancePath:instancePath+"/queue/lockMs",schemaPath:"#/properties/queue/properties/lockMs/type",keyword:"type",params:{type: "integer"},message:"must be integer"};
if(vErrors === null){
vErrors = [err87];
}
else {
vErrors.push(err87);
}
errors++;
}
if(typeof data52 == "number"){
if(data52 < 5000 || isNaN(data52)){
const err88 = {instancePath:instancePath+"/queue/lockMs",schemaPath:"#/properties/queue/properties/lockMs/minimum",keyword:"minimum",params:{comparison: ">=", limit: 5000},message:"must be >= 5000"};
if(vErrors === null){
vErrors = [err88];
}
else {
vErrors.push(err88);
}
errors++;
}
}
}
}
else {
const err89 = {instancePath:instancePath+"/queue",schemaPath:"#/properties/queue/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err89];
}
else {
vErrors.push(err89);
}
errors++;
}
}
if(data.copy !== undefined){
let data53 = data.copy;
if(data53 && typeof data53 == "object" && !Array.isArray(data53)){
for(const key13 in data53){
if(!(((((((key13 === "platforms") || (key13 === "layerConcurrency")) || (key13 === "requestsPerSecond")) || (key13 === "timeoutMs")) || (key13 === "referrers")) || (key13 === "referrerArtifactTypes")) || (key13 === "platformMode"))){
const err90 = {instancePath:instancePath+"/copy",schemaPath:"#/properties/copy/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key13},message:"must NOT have additional properties"};
if(vErrors === null){
vErrors = [err90];
}
else {
vErrors.push(err90);
}
errors++;
}
}
if(data53.platforms !== undefined){
let data54 = data53.platforms;
if(Array.isArray(data54)){
const len6 = data54.length;
for(let i6=0; i6<len6; i6++){
let data55 = data54[i6];
if(typeof data55 === "string"){
if(!pattern5.test(data55)){
const err91 = {instancePath:instancePath+"/copy/platforms/" + i6,schemaPath:"#/properties/copy/properties/platforms/items/pattern",keyword:"pattern",params:{pattern: "^[a-z0-9_.-]+/[a-z0-9_.-]+(/[a-z0-9_.-]+)?$"},message:"must match pattern \""+"^[a-z0-9_.-]+/[a-z0-9_.-]+(/[a-z0-9_.-]+)?$"+"\""};
if(vErrors === null){
vErrors = [err91];
}
else {
vErrors.push(err91);
}
errors++;
}
}
else {
const err92 = {instancePath:instancePath+"/copy/platforms/" + i6,schemaPath:"#/properties/copy/properties/platforms/items/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err92];
}
else {
vErrors.push(err92);
}
errors++;
}
}
}
else {
const err93 = {instancePath:instancePath+"/copy/platforms",schemaPath:"#/properties/copy/properties/platforms/type",keyword:"type",params:{type: "array"},message:"must be array"};
if(vErrors === null){
vErrors = [err93];
}
else {
vErrors.push(err93);
}
errors++;
}
}
if(data53.layerConcurrency !== undefined){
let data56 = data53.layerConcurrency;
if(!((typeof data56 == "number") && (!(data56 % 1) && !isNaN(data56)))){
const err94 = {instancePath:instancePath+"/copy/layerConcurrency",schemaPath:"#/properties/copy/properties/layerConcurrency/type",keyword:"type",params:{type: "integer"},message:"must be integer"};
if(vErrors === null){
vErrors = [err94];
}
else {
vErrors.push(err94);
}
errors++;
}
if(typeof data56 == "number"){
if(data56 < 1 || isNaN(data56)){
const err95 = {instancePath:instancePath+"/copy/layerConcurrency",schemaPath:"#/properties/copy/properties/layerConcurrency/minimum",keyword:"minimum",params:{comparison: ">=", limit: 1},message:"must be >= 1"};
if(vErrors === null){
vErrors = [err95];
}
else {
vErrors.push(err95);
}
errors++;
}
}
}
if(data53.requestsPerSecond !== undefined){
let data57 = data53.requestsPerSecond;
if(typeof data57 == "number"){
if(data57 < 0 || isNaN(data57)){
const err96 = {instancePath:instancePath+"/copy/requestsPerSecond",schemaPath:"#/properties/copy/properties/requestsPerSecond/minimum",keyword:"minimum",params:{comparison: ">=", limit: 0},message:"must be >= 0"};
if(vErrors === null){
vErrors = [err96];
}
else {
vErrors.push(err96);
}
errors++;
}
}
else {
const err97 = {instancePath:instancePath+"/copy/requestsPerSecond",schemaPath:"#/properties/copy/properties/requestsPerSecond/type",keyword:"type",params:{type: "number"},message:"must be number"};
if(vErrors === null){
vErrors = [err97];
}
else {
vErrors.push(err97);
}
errors++;
}
}
if(data53.timeoutMs !== undefined){
let data58 = data53.timeoutMs;
if(!((typeof data58 == "number") && (!(data58 % 1) && !isNaN(data58)))){
const err98 = {instancePath:instancePath+"/copy/timeoutMs",schemaPath:"#/properties/copy/properties/timeoutMs/type",keyword:"type",params:{type: "integer"},message:"must be integer"};
if(vErrors === null){
vErrors = [err98];
}
else {
vErrors.push(err98);
}
errors++;
}
if(typeof data58 == "number"){
if(data58 < 1 || isNaN(data58)){
const err99 = {instancePath:instancePath+"/copy/timeoutMs",schemaPath:"#/properties/copy/properties/timeoutMs/minimum",keyword:"minimum",params:{comparison: ">=", limit: 1},message:"must be >= 1"};
if(vErrors === null){
vErrors = [err99];
}
else {
vErrors.push(err99);
}
errors++;
}
}
}
if(data53.referrers !== undefined){
if(typeof data53.referrers !== "boolean"){
const err100 = {instancePath:instancePath+"/copy/referrers",schemaPath:"#/properties/copy/properties/referrers/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
if(vErrors === null){
vErrors = [err100];
}
else {
vErrors.push(err100);
}
errors++;
}
}
if(data53.referrerArtifactTypes !== undefined){
let data60 = data53.referrerArtifactTypes;
if(Array.isArray(data60)){
const len7 = data60.length;
for(let i7=0; i7<len7; i7++){
if(typeof data60[i7] !== "string"){
const err101 = {instancePath:instancePath+"/copy/referrerArtifactTypes/" + i7,schemaPath:"#/properties/copy/properties/referrerArtifactTypes/items/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err101];
}
else {
vErrors.push(err101);
}
errors++;
}
}
}
else {
const err102 = {instancePath:instancePath+"/copy/referrerArtifactTypes",schemaPath:"#/properties/copy/properties/referrerArtifactTypes/type",keyword:"type",params:{type: "array"},message:"must be array"};
if(vErrors === null){
vErrors = [err102];
}
else {
vErrors.push(err102);
}
errors++;
}
}
if(data53.platformMode !== undefined){
let data62 = data53.platformMode;
if(!((((data62 === "auto") || (data62 === "full")) || (data62 === "sparse")) || (data62 === "strip"))){
const err103 = {instancePath:instancePath+"/copy/platformMode",schemaPath:"#/properties/copy/properties/platformMode/enum",keyword:"enum",params:{allowedValues: schema11.properties.copy.properties.platformMode.enum},message:"must be equal to one of the allowed values"};
if(vErrors === null){
vErrors = [err103];
}
else {
vErrors.push(err103);
}
errors++;
}
}
}
else {
const err104 = {instancePath:instancePath+"/copy",schemaPath:"#/properties/copy/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err104];
}
else {
vErrors.push(err104);
}
errors++;
}
}
if(data.watch !== undefined){
let data63 = data.watch;
if(Array.isArray(data63)){
const len8 = data63.length;
for(let i8=0; i8<len8; i8++){
let data64 = data63[i8];
if(data64 && typeof data64 == "object" && !Array.isArray(data64)){
if(data64.image === undefined){
const err105 = {instancePath:instancePath+"/watch/" + i8,schemaPath:"#/properties/watch/items/required",keyword:"required",params:{missingProperty: "image"},message:"must have required property '"+"image"+"'"};
if(vErrors === null){
vErrors = [err105];
}
else {
vErrors.push(err105);
}
errors++;
}
if(data64.strategy === undefined){
const err106 = {instancePath:instancePath+"/watch/" + i8,schemaPath:"#/properties/watch/items/required",keyword:"required",params:{missingProperty: "strategy"},message:"must have required property '"+"strategy"+"'"};
if(vErrors === null){
vErrors = [err106];
}
else {
vErrors.push(err106);
}
errors++;
}
if(data64.schedule === undefined){
const err107 = {instancePath:instancePath+"/watch/" + i8,schemaPath:"#/properties/watch/items/required",keyword:"required",params:{missingProperty: "schedule"},message:"must have required property '"+"schedule"+"'"};
if(vErrors === null){
vErrors = [err107];
}
else {
vErrors.push(err107);
}
errors++;
}
for(const key14 in data64){
if(!(func2.call(schema11.properties.watch.items.properties, key14))){
const err108 = {instancePath:instancePath+"/watch/" + i8,schemaPath:"#/properties/watch/items/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key14},message:"must NOT have additional properties"};
if(vErrors === null){
vErrors = [err108];
}
else {
vErrors.push(err108);
}
errors++;
}
}
if(data64.id !== undefined){
let data65 = data64.id;
if(typeof data65 === "string"){
if(!pattern6.test(data65)){
const err109 = {instancePath:instancePath+"/watch/" + i8+"/id",schemaPath:"#/properties/watch/items/properties/id/pattern",keyword:"pattern",params:{pattern: "^[A-Za-z0-9_.-]+$"},message:"must match pattern \""+"^[A-Za-z0-9_.-]+$"+"\""};
if(vErrors === null){
vErrors = [err109];
}
else {
vErrors.push(err109);
}
errors++;
}
}
else {
const err110 = {instancePath:instancePath+"/watch/" + i8+"/id",schemaPath:"#/properties/watch/items/properties/id/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err110];
}
else {
vErrors.push(err110);
}
errors++;
}
}
if(data64.image !== undefined){
let data66 = data64.image;
if(typeof data66 === "string"){
if(func3(data66) < 1){
const err111 = {instancePath:instancePath+"/watch/" + i8+"/image",schemaPath:"#/properties/watch/items/properties/image/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};
if(vErrors === null){
vErrors = [err111];
}
else {
vErrors.push(err111);
}
errors++;
}
}
else {
const err112 = {instancePath:instancePath+"/watch/" + i8+"/image",schemaPath:"#/properties/watch/items/properties/image/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err112];
}
else {
vErrors.push(err112);
}
errors++;
}
}
if(data64.tag !== undefined){
if(typeof data64.tag !== "string"){
const err113 = {instancePath:instancePath+"/watch/" + i8+"/tag",schemaPath:"#/properties/watch/items/properties/tag/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err113];
}
else {
vErrors.push(err113);
}
errors++;
}
}
if(data64.strategy !== undefined){
let data68 = data64.strategy;
if(!((((data68 === "digest") || (data68 === "semver")) || (data68 === "newest")) || (data68 === "alphabetical"))){
const err114 = {instancePath:instancePath+"/watch/" + i8+"/strategy",schemaPath:"#/properties/watch/items/properties/strategy/enum",keyword:"enum",params:{allowedValues: schema11.properties.watch.items.properties.strategy.enum},message:"must be equal to one of the allowed values"};
if(vErrors === null){
vErrors = [err114];
}
else {
vErrors.push(err114);
}
errors++;
}
}
if(data64.constraint !== undefined){
if(typeof data64.constraint !== "string"){
const err115 = {instancePath:instancePath+"/watch/" + i8+"/constraint",schemaPath:"#/properties/watch/items/properties/constraint/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err115];
}
else {
vErrors.push(err115);
}
errors++;
}
}
if(data64.prerelease !== undefined){
if(typeof data64.prerelease !== "boolean"){
const err116 = {instancePath:instancePath+"/watch/" + i8+"/prerelease",schemaPath:"#/properties/watch/items/properties/prerelease/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
if(vErrors === null){
vErrors = [err116];
}
else {
vErrors.push(err116);
}
errors++;
}
}
if(data64.allowTags !== undefined){
if(typeof data64.allowTags !== "string"){
const err117 = {instancePath:instancePath+"/watch/" + i8+"/allowTags",schemaPath:"#/properties/watch/items/properties/allowTags/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err117];
}
else {
vErrors.push(err117);
}
errors++;
}
}
if(data64.ignoreTags !== undefined){
let data72 = data64.ignoreTags;
if(Array.isArray(data72)){
const len9 = data72.length;
for(let i9=0; i9<len9; i9++){
if(typeof data72[i9] !== "string"){
const err118 = {instancePath:instancePath+"/watch/" + i8+"/ignoreTags/" + i9,schemaPath:"#/properties/watch/items/properties/ignoreTags/items/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err118];
}
else {
vErrors.push(err118);
}
errors++;
}
}
}
else {
const err119 = {instancePath:instancePath+"/watch/" + i8+"/ignoreTags",schemaPath:"#/properties/watch/items/properties/ignoreTags/type",keyword:"type",params:{type: "array"},message:"must be array"};
if(vErrors === null){
vErrors = [err119];
}
else {
vErrors.push(err119);
}
errors++;
}
}
if(data64.schedule !== undefined){
let data74 = data64.schedule;
if(typeof data74 === "string"){
if(func3(data74) < 1){
const err120 = {instancePath:instancePath+"/watch/" + i8+"/schedule",schemaPath:"#/properties/watch/items/properties/schedule/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};
if(vErrors === null){
vErrors = [err120];
}
else {
vErrors.push(err120);
}
errors++;
}
}
else {
const err121 = {instancePath:instancePath+"/watch/" + i8+"/schedule",schemaPath:"#/properties/watch/items/properties/schedule/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err121];
}
else {
vErrors.push(err121);
}
errors++;
}
}
if(data64.keep !== undefined){
let data75 = data64.keep;
if(!((typeof data75 == "number") && (!(data75 % 1) && !isNaN(data75)))){
const err122 = {instancePath:instancePath+"/watch/" + i8+"/keep",schemaPath:"#/properties/watch/items/properties/keep/type",keyword:"type",params:{type: "integer"},message:"must be integer"};
if(vErrors === null){
vErrors = [err122];
}
else {
vErrors.push(err122);
}
errors++;
}
if(typeof data75 == "number"){
if(data75 < 0 || isNaN(data75)){
const err123 = {instancePath:instancePath+"/watch/" + i8+"/keep",schemaPath:"#/properties/watch/items/properties/keep/minimum",keyword:"minimum",params:{comparison: ">=", limit: 0},message:"must be >= 0"};
if(vErrors === null){
vErrors = [err123];
}
else {
vErrors.push(err123);
}
errors++;
}
}
}
if(data64.cacheBy !== undefined){
let data76 = data64.cacheBy;
if(!((data76 === "tag") || (data76 === "digest"))){
const err124 = {instancePath:instancePath+"/watch/" + i8+"/cacheBy",schemaPath:"#/properties/watch/items/properties/cacheBy/enum",keyword:"enum",params:{allowedValues: schema11.properties.watch.items.properties.cacheBy.enum},message:"must be equal to one of the allowed values"};
if(vErrors === null){
vErrors = [err124];
}
else {
vErrors.push(err124);
}
errors++;
}
}
if(data64.alias !== undefined){
let data77 = data64.alias;
if(typeof data77 === "string"){
if(!pattern7.test(data77)){
const err125 = {instancePath:instancePath+"/watch/" + i8+"/alias",schemaPath:"#/properties/watch/items/properties/alias/pattern",keyword:"pattern",params:{pattern: "^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"},message:"must match pattern \""+"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"+"\""};
if(vErrors === null){
vErrors = [err125];
}
else {
vErrors.push(err125);
}
errors++;
}
}
else {
const err126 = {instancePath:instancePath+"/watch/" + i8+"/alias",schemaPath:"#/properties/watch/items/properties/alias/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err126];
}
else {
vErrors.push(err126);
}
errors++;
}
}
}
else {
const err127 = {instancePath:instancePath+"/watch/" + i8,schemaPath:"#/properties/watch/items/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err127];
}
else {
vErrors.push(err127);
}
errors++;
}
}
}
else {
const err128 = {instancePath:instancePath+"/watch",schemaPath:"#/properties/watch/type",keyword:"type",params:{type: "array"},message:"must be array"};
if(vErrors === null){
vErrors = [err128];
}
else {
vErrors.push(err128);
}
errors++;
}
}
if(data.import !== undefined){
let data78 = data.import;
if(data78 && typeof data78 == "object" && !Array.isArray(data78)){
for(const key15 in data78){
if(!((key15 === "dir") || (key15 === "stableMs"))){
const err129 = {instancePath:instancePath+"/import",schemaPath:"#/properties/import/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key15},message:"must NOT have additional properties"};
if(vErrors === null){
vErrors = [err129];
}
else {
vErrors.push(err129);
}
errors++;
}
}
if(data78.dir !== undefined){
if(typeof data78.dir !== "string"){
const err130 = {instancePath:instancePath+"/import/dir",schemaPath:"#/properties/import/properties/dir/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err130];
}
else {
vErrors.push(err130);
}
errors++;
}
}
if(data78.stableMs !== undefined){
let data80 = data78.stableMs;
if(!((typeof data80 == "number") && (!(data80 % 1) && !isNaN(data80)))){
const err131 = {instancePath:instancePath+"/import/stableMs",schemaPath:"#/properties/import/properties/stableMs/type",keyword:"type",params:{type: "integer"},message:"must be integer"};
if(vErrors === null){
vErrors = [err131];
}
else {
vErrors.push(err131);
}
errors++;
}
if(typeof data80 == "number"){
if(data80 < 0 || isNaN(data80)){
const err132 = {instancePath:instancePath+"/import/stableMs",schemaPath:"#/properties/import/properties/stableMs/minimum",keyword:"minimum",params:{comparison: ">=", limit: 0},message:"must be >= 0"};
if(vErrors === null){
vErrors = [err132];
}
else {
vErrors.push(err132);
}
errors++;
}
}
}
}
else {
const err133 = {instancePath:instancePath+"/import",schemaPath:"#/properties/import/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err133];
}
else {
vErrors.push(err133);
}
errors++;
}
}
if(data.agent !== undefined){
let data81 = data.agent;
if(data81 && typeof data81 == "object" && !Array.isArray(data81)){
for(const key16 in data81){
if(!(func2.call(schema11.properties.agent.properties, key16))){
const err134 = {instancePath:instancePath+"/agent",schemaPath:"#/properties/agent/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key16},message:"must NOT have additional properties"};
if(vErrors === null){
vErrors = [err134];
}
else {
vErrors.push(err134);
}
errors++;
}
}
if(data81.criSocket !== undefined){
let data82 = data81.criSocket;
if(typeof data82 === "string"){
if(func3(data82) < 1){
const err135 = {instancePath:instancePath+"/agent/criSocket",schemaPath:"#/properties/agent/properties/criSocket/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};
if(vErrors === null){
vErrors = [err135];
}
else {
vErrors.push(err135);
}
errors++;
}
}
else {
const err136 = {instancePath:instancePath+"/agent/criSocket",schemaPath:"#/properties/agent/properties/criSocket/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err136];
}
else {
vErrors.push(err136);
}
errors++;
}
}
if(data81.containerdSocket !== undefined){
if(typeof data81.containerdSocket !== "string"){
const err137 = {instancePath:instancePath+"/agent/containerdSocket",schemaPath:"#/properties/agent/properties/containerdSocket/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err137];
}
else {
vErrors.push(err137);
}
errors++;
}
}
if(data81.namespace !== undefined){
let data84 = data81.namespace;
if(typeof data84 === "string"){
if(func3(data84) < 1){
const err138 = {instancePath:instancePath+"/agent/namespace",schemaPath:"#/properties/agent/properties/namespace/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};
if(vErrors === null){
vErrors = [err138];
}
else {
vErrors.push(err138);
}
errors++;
}
}
else {
const err139 = {instancePath:instancePath+"/agent/namespace",schemaPath:"#/properties/agent/properties/namespace/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err139];
}
else {
vErrors.push(err139);
}
errors++;
}
}
if(data81.snapshotter !== undefined){
let data85 = data81.snapshotter;
if(typeof data85 === "string"){
if(func3(data85) < 1){
const err140 = {instancePath:instancePath+"/agent/snapshotter",schemaPath:"#/properties/agent/properties/snapshotter/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};
if(vErrors === null){
vErrors = [err140];
}
else {
vErrors.push(err140);
}
errors++;
}
}
else {
const err141 = {instancePath:instancePath+"/agent/snapshotter",schemaPath:"#/properties/agent/properties/snapshotter/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err141];
}
else {
vErrors.push(err141);
}
errors++;
}
}
if(data81.prepull !== undefined){
let data86 = data81.prepull;
if(Array.isArray(data86)){
const len10 = data86.length;
for(let i10=0; i10<len10; i10++){
let data87 = data86[i10];
if(data87 && typeof data87 == "object" && !Array.isArray(data87)){
if(data87.image === undefined){
const err142 = {instancePath:instancePath+"/agent/prepull/" + i10,schemaPath:"#/properties/agent/properties/prepull/items/required",keyword:"required",params:{missingProperty: "image"},message:"must have required property '"+"image"+"'"};
if(vErrors === null){
vErrors = [err142];
}
else {
vErrors.push(err142);
}
errors++;
}
for(const key17 in data87){
if(!((key17 === "image") || (key17 === "nodeSelector"))){
const err143 = {instancePath:instancePath+"/agent/prepull/" + i10,schemaPath:"#/properties/agent/properties/prepull/items/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key17},message:"must NOT have additional properties"};
if(vErrors === null){
vErrors = [err143];
}
else {
vErrors.push(err143);
}
errors++;
}
}
if(data87.image !== undefined){
let data88 = data87.image;
if(typeof data88 === "string"){
if(func3(data88) < 1){
const err144 = {instancePath:instancePath+"/agent/prepull/" + i10+"/image",schemaPath:"#/properties/agent/properties/prepull/items/properties/image/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};
if(vErrors === null){
vErrors = [err144];
}
else {
vErrors.push(err144);
}
errors++;
}
}
else {
const err145 = {instancePath:instancePath+"/agent/prepull/" + i10+"/image",schemaPath:"#/properties/agent/properties/prepull/items/properties/image/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err145];
}
else {
vErrors.push(err145);
}
errors++;
}
}
if(data87.nodeSelector !== undefined){
let data89 = data87.nodeSelector;
if(data89 && typeof data89 == "object" && !Array.isArray(data89)){
for(const key18 in data89){
if(typeof data89[key18] !== "string"){
const err146 = {instancePath:instancePath+"/agent/prepull/" + i10+"/nodeSelector/" + key18.replace(/~/g, "~0").replace(/\//g, "~1"),schemaPath:"#/properties/agent/properties/prepull/items/properties/nodeSelector/additionalProperties/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err146];
}
else {
vErrors.push(err146);
}
errors++;
}
}
}
else {
const err147 = {instancePath:instancePath+"/agent/prepull/" + i10+"/nodeSelector",schemaPath:"#/properties/agent/properties/prepull/items/properties/nodeSelector/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err147];
}
else {
vErrors.push(err147);
}
errors++;
}
}
}
else {
const err148 = {instancePath:instancePath+"/agent/prepull/" + i10,schemaPath:"#/properties/agent/properties/prepull/items/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err148];
}
else {
vErrors.push(err148);
}
errors++;
}
}
}
else {
const err149 = {instancePath:instancePath+"/agent/prepull",schemaPath:"#/properties/agent/properties/prepull/type",keyword:"type",params:{type: "array"},message:"must be array"};
if(vErrors === null){
vErrors = [err149];
}
else {
vErrors.push(err149);
}
errors++;
}
}
if(data81.pullConcurrency !== undefined){
let data91 = data81.pullConcurrency;
if(!((typeof data91 == "number") && (!(data91 % 1) && !isNaN(data91)))){
const err150 = {instancePath:instancePath+"/agent/pullConcurrency",schemaPath:"#/properties/agent/properties/pullConcurrency/type",keyword:"type",params:{type: "integer"},message:"must be integer"};
if(vErrors === null){
vErrors = [err150];
}
else {
vErrors.push(err150);
}
errors++;
}
if(typeof data91 == "number"){
if(data91 < 1 || isNaN(data91)){
const err151 = {instancePath:instancePath+"/agent/pullConcurrency",schemaPath:"#/properties/agent/properties/pullConcurrency/minimum",keyword:"minimum",params:{comparison: ">=", limit: 1},message:"must be >= 1"};
if(vErrors === null){
vErrors = [err151];
}
else {
vErrors.push(err151);
}
errors++;
}
}
}
if(data81.prepullInUse !== undefined){
if(typeof data81.prepullInUse !== "boolean"){
const err152 = {instancePath:instancePath+"/agent/prepullInUse",schemaPath:"#/properties/agent/properties/prepullInUse/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
if(vErrors === null){
vErrors = [err152];
}
else {
vErrors.push(err152);
}
errors++;
}
}
if(data81.prepullWorkloads !== undefined){
if(typeof data81.prepullWorkloads !== "boolean"){
const err153 = {instancePath:instancePath+"/agent/prepullWorkloads",schemaPath:"#/properties/agent/properties/prepullWorkloads/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
if(vErrors === null){
vErrors = [err153];
}
else {
vErrors.push(err153);
}
errors++;
}
}
if(data81.importDir !== undefined){
if(typeof data81.importDir !== "string"){
const err154 = {instancePath:instancePath+"/agent/importDir",schemaPath:"#/properties/agent/properties/importDir/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err154];
}
else {
vErrors.push(err154);
}
errors++;
}
}
if(data81.stableMs !== undefined){
let data95 = data81.stableMs;
if(!((typeof data95 == "number") && (!(data95 % 1) && !isNaN(data95)))){
const err155 = {instancePath:instancePath+"/agent/stableMs",schemaPath:"#/properties/agent/properties/stableMs/type",keyword:"type",params:{type: "integer"},message:"must be integer"};
if(vErrors === null){
vErrors = [err155];
}
else {
vErrors.push(err155);
}
errors++;
}
if(typeof data95 == "number"){
if(data95 < 0 || isNaN(data95)){
const err156 = {instancePath:instancePath+"/agent/stableMs",schemaPath:"#/properties/agent/properties/stableMs/minimum",keyword:"minimum",params:{comparison: ">=", limit: 0},message:"must be >= 0"};
if(vErrors === null){
vErrors = [err156];
}
else {
vErrors.push(err156);
}
errors++;
}
}
}
if(data81.stateFile !== undefined){
if(typeof data81.stateFile !== "string"){
const err157 = {instancePath:instancePath+"/agent/stateFile",schemaPath:"#/properties/agent/properties/stateFile/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err157];
}
else {
vErrors.push(err157);
}
errors++;
}
}
if(data81.startupTaint !== undefined){
if(typeof data81.startupTaint !== "string"){
const err158 = {instancePath:instancePath+"/agent/startupTaint",schemaPath:"#/properties/agent/properties/startupTaint/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err158];
}
else {
vErrors.push(err158);
}
errors++;
}
}
if(data81.backoff !== undefined){
let data98 = data81.backoff;
if(data98 && typeof data98 == "object" && !Array.isArray(data98)){
for(const key19 in data98){
if(!((key19 === "initialMs") || (key19 === "maxMs"))){
const err159 = {instancePath:instancePath+"/agent/backoff",schemaPath:"#/properties/agent/properties/backoff/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key19},message:"must NOT have additional properties"};
if(vErrors === null){
vErrors = [err159];
}
else {
vErrors.push(err159);
}
errors++;
}
}
if(data98.initialMs !== undefined){
let data99 = data98.initialMs;
if(!((typeof data99 == "number") && (!(data99 % 1) && !isNaN(data99)))){
const err160 = {instancePath:instancePath+"/agent/backoff/initialMs",schemaPath:"#/properties/agent/properties/backoff/properties/initialMs/type",keyword:"type",params:{type: "integer"},message:"must be integer"};
if(vErrors === null){
vErrors = [err160];
}
else {
vErrors.push(err160);
}
errors++;
}
if(typeof data99 == "number"){
if(data99 < 1 || isNaN(data99)){
const err161 = {instancePath:instancePath+"/agent/backoff/initialMs",schemaPath:"#/properties/agent/properties/backoff/properties/initialMs/minimum",keyword:"minimum",params:{comparison: ">=", limit: 1},message:"must be >= 1"};
if(vErrors === null){
vErrors = [err161];
}
else {
vErrors.push(err161);
}
errors++;
}
}
}
if(data98.maxMs !== undefined){
let data100 = data98.maxMs;
if(!((typeof data100 == "number") && (!(data100 % 1) && !isNaN(data100)))){
const err162 = {instancePath:instancePath+"/agent/backoff/maxMs",schemaPath:"#/properties/agent/properties/backoff/properties/maxMs/type",keyword:"type",params:{type: "integer"},message:"must be integer"};
if(vErrors === null){
vErrors = [err162];
}
else {
vErrors.push(err162);
}
errors++;
}
if(typeof data100 == "number"){
if(data100 < 1 || isNaN(data100)){
const err163 = {instancePath:instancePath+"/agent/backoff/maxMs",schemaPath:"#/properties/agent/properties/backoff/properties/maxMs/minimum",keyword:"minimum",params:{comparison: ">=", limit: 1},message:"must be >= 1"};
if(vErrors === null){
vErrors = [err163];
}
else {
vErrors.push(err163);
}
errors++;
}
}
}
}
else {
const err164 = {instancePath:instancePath+"/agent/backoff",schemaPath:"#/properties/agent/properties/backoff/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err164];
}
else {
vErrors.push(err164);
}
errors++;
}
}
if(data81.resyncMs !== undefined){
let data101 = data81.resyncMs;
if(!((typeof data101 == "number") && (!(data101 % 1) && !isNaN(data101)))){
const err165 = {instancePath:instancePath+"/agent/resyncMs",schemaPath:"#/properties/agent/properties/resyncMs/type",keyword:"type",params:{type: "integer"},message:"must be integer"};
if(vErrors === null){
vErrors = [err165];
}
else {
vErrors.push(err165);
}
errors++;
}
if(typeof data101 == "number"){
if(data101 < 1 || isNaN(data101)){
const err166 = {instancePath:instancePath+"/agent/resyncMs",schemaPath:"#/properties/agent/properties/resyncMs/minimum",keyword:"minimum",params:{comparison: ">=", limit: 1},message:"must be >= 1"};
if(vErrors === null){
vErrors = [err166];
}
else {
vErrors.push(err166);
}
errors++;
}
}
}
}
else {
const err167 = {instancePath:instancePath+"/agent",schemaPath:"#/properties/agent/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err167];
}
else {
vErrors.push(err167);
}
errors++;
}
}
if(data.webhook !== undefined){
let data102 = data.webhook;
if(data102 && typeof data102 == "object" && !Array.isArray(data102)){
for(const key20 in data102){
if(!(((((((key20 === "port") || (key20 === "host")) || (key20 === "certFile")) || (key20 === "keyFile")) || (key20 === "failClosed")) || (key20 === "bodyLimit")) || (key20 === "bufferLimit"))){
const err168 = {instancePath:instancePath+"/webhook",schemaPath:"#/properties/webhook/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key20},message:"must NOT have additional properties"};
if(vErrors === null){
vErrors = [err168];
}
else {
vErrors.push(err168);
}
errors++;
}
}
if(data102.port !== undefined){
let data103 = data102.port;
if(!((typeof data103 == "number") && (!(data103 % 1) && !isNaN(data103)))){
const err169 = {instancePath:instancePath+"/webhook/port",schemaPath:"#/properties/webhook/properties/port/type",keyword:"type",params:{type: "integer"},message:"must be integer"};
if(vErrors === null){
vErrors = [err169];
}
else {
vErrors.push(err169);
}
errors++;
}
if(typeof data103 == "number"){
if(data103 > 65535 || isNaN(data103)){
const err170 = {instancePath:instancePath+"/webhook/port",schemaPath:"#/properties/webhook/properties/port/maximum",keyword:"maximum",params:{comparison: "<=", limit: 65535},message:"must be <= 65535"};
if(vErrors === null){
vErrors = [err170];
}
else {
vErrors.push(err170);
}
errors++;
}
if(data103 < 0 || isNaN(data103)){
const err171 = {instancePath:instancePath+"/webhook/port",schemaPath:"#/properties/webhook/properties/port/minimum",keyword:"minimum",params:{comparison: ">=", limit: 0},message:"must be >= 0"};
if(vErrors === null){
vErrors = [err171];
}
else {
vErrors.push(err171);
}
errors++;
}
}
}
if(data102.host !== undefined){
if(typeof data102.host !== "string"){
const err172 = {instancePath:instancePath+"/webhook/host",schemaPath:"#/properties/webhook/properties/host/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err172];
}
else {
vErrors.push(err172);
}
errors++;
}
}
if(data102.certFile !== undefined){
if(typeof data102.certFile !== "string"){
const err173 = {instancePath:instancePath+"/webhook/certFile",schemaPath:"#/properties/webhook/properties/certFile/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err173];
}
else {
vErrors.push(err173);
}
errors++;
}
}
if(data102.keyFile !== undefined){
if(typeof data102.keyFile !== "string"){
const err174 = {instancePath:instancePath+"/webhook/keyFile",schemaPath:"#/properties/webhook/properties/keyFile/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err174];
}
else {
vErrors.push(err174);
}
errors++;
}
}
if(data102.failClosed !== undefined){
if(typeof data102.failClosed !== "boolean"){
const err175 = {instancePath:instancePath+"/webhook/failClosed",schemaPath:"#/properties/webhook/properties/failClosed/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
if(vErrors === null){
vErrors = [err175];
}
else {
vErrors.push(err175);
}
errors++;
}
}
if(data102.bodyLimit !== undefined){
let data108 = data102.bodyLimit;
if(!((typeof data108 == "number") && (!(data108 % 1) && !isNaN(data108)))){
const err176 = {instancePath:instancePath+"/webhook/bodyLimit",schemaPath:"#/properties/webhook/properties/bodyLimit/type",keyword:"type",params:{type: "integer"},message:"must be integer"};
if(vErrors === null){
vErrors = [err176];
}
else {
vErrors.push(err176);
}
errors++;
}
if(typeof data108 == "number"){
if(data108 < 1 || isNaN(data108)){
const err177 = {instancePath:instancePath+"/webhook/bodyLimit",schemaPath:"#/properties/webhook/properties/bodyLimit/minimum",keyword:"minimum",params:{comparison: ">=", limit: 1},message:"must be >= 1"};
if(vErrors === null){
vErrors = [err177];
}
else {
vErrors.push(err177);
}
errors++;
}
}
}
if(data102.bufferLimit !== undefined){
let data109 = data102.bufferLimit;
if(!((typeof data109 == "number") && (!(data109 % 1) && !isNaN(data109)))){
const err178 = {instancePath:instancePath+"/webhook/bufferLimit",schemaPath:"#/properties/webhook/properties/bufferLimit/type",keyword:"type",params:{type: "integer"},message:"must be integer"};
if(vErrors === null){
vErrors = [err178];
}
else {
vErrors.push(err178);
}
errors++;
}
if(typeof data109 == "number"){
if(data109 < 1 || isNaN(data109)){
const err179 = {instancePath:instancePath+"/webhook/bufferLimit",schemaPath:"#/properties/webhook/properties/bufferLimit/minimum",keyword:"minimum",params:{comparison: ">=", limit: 1},message:"must be >= 1"};
if(vErrors === null){
vErrors = [err179];
}
else {
vErrors.push(err179);
}
errors++;
}
}
}
}
else {
const err180 = {instancePath:instancePath+"/webhook",schemaPath:"#/properties/webhook/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err180];
}
else {
vErrors.push(err180);
}
errors++;
}
}
if(data.dashboard !== undefined){
let data110 = data.dashboard;
if(data110 && typeof data110 == "object" && !Array.isArray(data110)){
for(const key21 in data110){
if(!(((key21 === "port") || (key21 === "host")) || (key21 === "token"))){
const err181 = {instancePath:instancePath+"/dashboard",schemaPath:"#/properties/dashboard/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key21},message:"must NOT have additional properties"};
if(vErrors === null){
vErrors = [err181];
}
else {
vErrors.push(err181);
}
errors++;
}
}
if(data110.port !== undefined){
let data111 = data110.port;
if(!((typeof data111 == "number") && (!(data111 % 1) && !isNaN(data111)))){
const err182 = {instancePath:instancePath+"/dashboard/port",schemaPath:"#/properties/dashboard/properties/port/type",keyword:"type",params:{type: "integer"},message:"must be integer"};
if(vErrors === null){
vErrors = [err182];
}
else {
vErrors.push(err182);
}
errors++;
}
if(typeof data111 == "number"){
if(data111 > 65535 || isNaN(data111)){
const err183 = {instancePath:instancePath+"/dashboard/port",schemaPath:"#/properties/dashboard/properties/port/maximum",keyword:"maximum",params:{comparison: "<=", limit: 65535},message:"must be <= 65535"};
if(vErrors === null){
vErrors = [err183];
}
else {
vErrors.push(err183);
}
errors++;
}
if(data111 < 0 || isNaN(data111)){
const err184 = {instancePath:instancePath+"/dashboard/port",schemaPath:"#/properties/dashboard/properties/port/minimum",keyword:"minimum",params:{comparison: ">=", limit: 0},message:"must be >= 0"};
if(vErrors === null){
vErrors = [err184];
}
else {
vErrors.push(err184);
}
errors++;
}
}
}
if(data110.host !== undefined){
if(typeof data110.host !== "string"){
const err185 = {instancePath:instancePath+"/dashboard/host",schemaPath:"#/properties/dashboard/properties/host/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err185];
}
else {
vErrors.push(err185);
}
errors++;
}
}
if(data110.token !== undefined){
if(typeof data110.token !== "string"){
const err186 = {instancePath:instancePath+"/dashboard/token",schemaPath:"#/properties/dashboard/properties/token/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err186];
}
else {
vErrors.push(err186);
}
errors++;
}
}
}
else {
const err187 = {instancePath:instancePath+"/dashboard",schemaPath:"#/properties/dashboard/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err187];
}
else {
vErrors.push(err187);
}
errors++;
}
}
if(data.hooks !== undefined){
let data114 = data.hooks;
if(data114 && typeof data114 == "object" && !Array.isArray(data114)){
for(const key22 in data114){
if(!(key22 === "secret")){
const err188 = {instancePath:instancePath+"/hooks",schemaPath:"#/properties/hooks/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key22},message:"must NOT have additional properties"};
if(vErrors === null){
vErrors = [err188];
}
else {
vErrors.push(err188);
}
errors++;
}
}
if(data114.secret !== undefined){
if(typeof data114.secret !== "string"){
const err189 = {instancePath:instancePath+"/hooks/secret",schemaPath:"#/properties/hooks/properties/secret/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err189];
}
else {
vErrors.push(err189);
}
errors++;
}
}
}
else {
const err190 = {instancePath:instancePath+"/hooks",schemaPath:"#/properties/hooks/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err190];
}
else {
vErrors.push(err190);
}
errors++;
}
}
if(data.notify !== undefined){
let data116 = data.notify;
if(Array.isArray(data116)){
const len11 = data116.length;
for(let i11=0; i11<len11; i11++){
let data117 = data116[i11];
if(data117 && typeof data117 == "object" && !Array.isArray(data117)){
if(data117.url === undefined){
const err191 = {instancePath:instancePath+"/notify/" + i11,schemaPath:"#/properties/notify/items/required",keyword:"required",params:{missingProperty: "url"},message:"must have required property '"+"url"+"'"};
if(vErrors === null){
vErrors = [err191];
}
else {
vErrors.push(err191);
}
errors++;
}
for(const key23 in data117){
if(!(((key23 === "url") || (key23 === "events")) || (key23 === "secret"))){
const err192 = {instancePath:instancePath+"/notify/" + i11,schemaPath:"#/properties/notify/items/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key23},message:"must NOT have additional properties"};
if(vErrors === null){
vErrors = [err192];
}
else {
vErrors.push(err192);
}
errors++;
}
}
if(data117.url !== undefined){
let data118 = data117.url;
if(typeof data118 === "string"){
if(!pattern2.test(data118)){
const err193 = {instancePath:instancePath+"/notify/" + i11+"/url",schemaPath:"#/properties/notify/items/properties/url/pattern",keyword:"pattern",params:{pattern: "^https?://"},message:"must match pattern \""+"^https?://"+"\""};
if(vErrors === null){
vErrors = [err193];
}
else {
vErrors.push(err193);
}
errors++;
}
}
else {
const err194 = {instancePath:instancePath+"/notify/" + i11+"/url",schemaPath:"#/properties/notify/items/properties/url/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err194];
}
else {
vErrors.push(err194);
}
errors++;
}
}
if(data117.events !== undefined){
let data119 = data117.events;
if(Array.isArray(data119)){
if(data119.length < 1){
const err195 = {instancePath:instancePath+"/notify/" + i11+"/events",schemaPath:"#/properties/notify/items/properties/events/minItems",keyword:"minItems",params:{limit: 1},message:"must NOT have fewer than 1 items"};
if(vErrors === null){
vErrors = [err195];
}
else {
vErrors.push(err195);
}
errors++;
}
const len12 = data119.length;
for(let i12=0; i12<len12; i12++){
let data120 = data119[i12];
if(!((((data120 === "tagMoved") || (data120 === "drifted")) || (data120 === "mirrored")) || (data120 === "error"))){
const err196 = {instancePath:instancePath+"/notify/" + i11+"/events/" + i12,schemaPath:"#/properties/notify/items/properties/events/items/enum",keyword:"enum",params:{allowedValues: schema11.properties.notify.items.properties.events.items.enum},message:"must be equal to one of the allowed values"};
if(vErrors === null){
vErrors = [err196];
}
else {
vErrors.push(err196);
}
errors++;
}
}
}
else {
const err197 = {instancePath:instancePath+"/notify/" + i11+"/events",schemaPath:"#/properties/notify/items/properties/events/type",keyword:"type",params:{type: "array"},message:"must be array"};
if(vErrors === null){
vErrors = [err197];
}
else {
vErrors.push(err197);
}
errors++;
}
}
if(data117.secret !== undefined){
if(typeof data117.secret !== "string"){
const err198 = {instancePath:instancePath+"/notify/" + i11+"/secret",schemaPath:"#/properties/notify/items/properties/secret/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err198];
}
else {
vErrors.push(err198);
}
errors++;
}
}
}
else {
const err199 = {instancePath:instancePath+"/notify/" + i11,schemaPath:"#/properties/notify/items/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err199];
}
else {
vErrors.push(err199);
}
errors++;
}
}
}
else {
const err200 = {instancePath:instancePath+"/notify",schemaPath:"#/properties/notify/type",keyword:"type",params:{type: "array"},message:"must be array"};
if(vErrors === null){
vErrors = [err200];
}
else {
vErrors.push(err200);
}
errors++;
}
}
if(data.gc !== undefined){
let data122 = data.gc;
if(data122 && typeof data122 == "object" && !Array.isArray(data122)){
for(const key24 in data122){
if(!(((((key24 === "enabled") || (key24 === "unusedFor")) || (key24 === "schedule")) || (key24 === "dryRun")) || (key24 === "keepUnusedFor"))){
const err201 = {instancePath:instancePath+"/gc",schemaPath:"#/properties/gc/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key24},message:"must NOT have additional properties"};
if(vErrors === null){
vErrors = [err201];
}
else {
vErrors.push(err201);
}
errors++;
}
}
if(data122.enabled !== undefined){
if(typeof data122.enabled !== "boolean"){
const err202 = {instancePath:instancePath+"/gc/enabled",schemaPath:"#/properties/gc/properties/enabled/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
if(vErrors === null){
vErrors = [err202];
}
else {
vErrors.push(err202);
}
errors++;
}
}
if(data122.unusedFor !== undefined){
let data124 = data122.unusedFor;
if(typeof data124 === "string"){
if(!pattern9.test(data124)){
const err203 = {instancePath:instancePath+"/gc/unusedFor",schemaPath:"#/properties/gc/properties/unusedFor/pattern",keyword:"pattern",params:{pattern: "^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+$"},message:"must match pattern \""+"^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+$"+"\""};
if(vErrors === null){
vErrors = [err203];
}
else {
vErrors.push(err203);
}
errors++;
}
}
else {
const err204 = {instancePath:instancePath+"/gc/unusedFor",schemaPath:"#/properties/gc/properties/unusedFor/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err204];
}
else {
vErrors.push(err204);
}
errors++;
}
}
if(data122.schedule !== undefined){
let data125 = data122.schedule;
if(typeof data125 === "string"){
if(func3(data125) < 1){
const err205 = {instancePath:instancePath+"/gc/schedule",schemaPath:"#/properties/gc/properties/schedule/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};
if(vErrors === null){
vErrors = [err205];
}
else {
vErrors.push(err205);
}
errors++;
}
}
else {
const err206 = {instancePath:instancePath+"/gc/schedule",schemaPath:"#/properties/gc/properties/schedule/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err206];
}
else {
vErrors.push(err206);
}
errors++;
}
}
if(data122.dryRun !== undefined){
if(typeof data122.dryRun !== "boolean"){
const err207 = {instancePath:instancePath+"/gc/dryRun",schemaPath:"#/properties/gc/properties/dryRun/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
if(vErrors === null){
vErrors = [err207];
}
else {
vErrors.push(err207);
}
errors++;
}
}
if(data122.keepUnusedFor !== undefined){
let data127 = data122.keepUnusedFor;
if(typeof data127 === "string"){
if(!pattern9.test(data127)){
const err208 = {instancePath:instancePath+"/gc/keepUnusedFor",schemaPath:"#/properties/gc/properties/keepUnusedFor/pattern",keyword:"pattern",params:{pattern: "^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+$"},message:"must match pattern \""+"^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+$"+"\""};
if(vErrors === null){
vErrors = [err208];
}
else {
vErrors.push(err208);
}
errors++;
}
}
else {
const err209 = {instancePath:instancePath+"/gc/keepUnusedFor",schemaPath:"#/properties/gc/properties/keepUnusedFor/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err209];
}
else {
vErrors.push(err209);
}
errors++;
}
}
}
else {
const err210 = {instancePath:instancePath+"/gc",schemaPath:"#/properties/gc/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err210];
}
else {
vErrors.push(err210);
}
errors++;
}
}
if(data.refresh !== undefined){
let data128 = data.refresh;
if(data128 && typeof data128 == "object" && !Array.isArray(data128)){
for(const key25 in data128){
if(!(((key25 === "schedule") || (key25 === "inUseOnly")) || (key25 === "maxRequestsPerRegistry"))){
const err211 = {instancePath:instancePath+"/refresh",schemaPath:"#/properties/refresh/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key25},message:"must NOT have additional properties"};
if(vErrors === null){
vErrors = [err211];
}
else {
vErrors.push(err211);
}
errors++;
}
}
if(data128.schedule !== undefined){
if(typeof data128.schedule !== "string"){
const err212 = {instancePath:instancePath+"/refresh/schedule",schemaPath:"#/properties/refresh/properties/schedule/type",keyword:"type",params:{type: "string"},message:"must be string"};
if(vErrors === null){
vErrors = [err212];
}
else {
vErrors.push(err212);
}
errors++;
}
}
if(data128.inUseOnly !== undefined){
if(typeof data128.inUseOnly !== "boolean"){
const err213 = {instancePath:instancePath+"/refresh/inUseOnly",schemaPath:"#/properties/refresh/properties/inUseOnly/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
if(vErrors === null){
vErrors = [err213];
}
else {
vErrors.push(err213);
}
errors++;
}
}
if(data128.maxRequestsPerRegistry !== undefined){
let data131 = data128.maxRequestsPerRegistry;
if(!((typeof data131 == "number") && (!(data131 % 1) && !isNaN(data131)))){
const err214 = {instancePath:instancePath+"/refresh/maxRequestsPerRegistry",schemaPath:"#/properties/refresh/properties/maxRequestsPerRegistry/type",keyword:"type",params:{type: "integer"},message:"must be integer"};
if(vErrors === null){
vErrors = [err214];
}
else {
vErrors.push(err214);
}
errors++;
}
if(typeof data131 == "number"){
if(data131 < 1 || isNaN(data131)){
const err215 = {instancePath:instancePath+"/refresh/maxRequestsPerRegistry",schemaPath:"#/properties/refresh/properties/maxRequestsPerRegistry/minimum",keyword:"minimum",params:{comparison: ">=", limit: 1},message:"must be >= 1"};
if(vErrors === null){
vErrors = [err215];
}
else {
vErrors.push(err215);
}
errors++;
}
}
}
}
else {
const err216 = {instancePath:instancePath+"/refresh",schemaPath:"#/properties/refresh/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err216];
}
else {
vErrors.push(err216);
}
errors++;
}
}
if(data.log !== undefined){
let data132 = data.log;
if(data132 && typeof data132 == "object" && !Array.isArray(data132)){
for(const key26 in data132){
if(!(key26 === "level")){
const err217 = {instancePath:instancePath+"/log",schemaPath:"#/properties/log/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key26},message:"must NOT have additional properties"};
if(vErrors === null){
vErrors = [err217];
}
else {
vErrors.push(err217);
}
errors++;
}
}
if(data132.level !== undefined){
let data133 = data132.level;
if(!(((((((data133 === "trace") || (data133 === "debug")) || (data133 === "info")) || (data133 === "warn")) || (data133 === "error")) || (data133 === "fatal")) || (data133 === "silent"))){
const err218 = {instancePath:instancePath+"/log/level",schemaPath:"#/properties/log/properties/level/enum",keyword:"enum",params:{allowedValues: schema11.properties.log.properties.level.enum},message:"must be equal to one of the allowed values"};
if(vErrors === null){
vErrors = [err218];
}
else {
vErrors.push(err218);
}
errors++;
}
}
}
else {
const err219 = {instancePath:instancePath+"/log",schemaPath:"#/properties/log/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err219];
}
else {
vErrors.push(err219);
}
errors++;
}
}
if(data.kubernetes !== undefined){
let data134 = data.kubernetes;
if(data134 && typeof data134 == "object" && !Array.isArray(data134)){
for(const key27 in data134){
if(!((((key27 === "namespaceInformer") || (key27 === "podInformer")) || (key27 === "events")) || (key27 === "imageWatches"))){
const err220 = {instancePath:instancePath+"/kubernetes",schemaPath:"#/properties/kubernetes/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key27},message:"must NOT have additional properties"};
if(vErrors === null){
vErrors = [err220];
}
else {
vErrors.push(err220);
}
errors++;
}
}
if(data134.namespaceInformer !== undefined){
let data135 = data134.namespaceInformer;
if(!((data135 === "auto") || (data135 === "off"))){
const err221 = {instancePath:instancePath+"/kubernetes/namespaceInformer",schemaPath:"#/properties/kubernetes/properties/namespaceInformer/enum",keyword:"enum",params:{allowedValues: schema11.properties.kubernetes.properties.namespaceInformer.enum},message:"must be equal to one of the allowed values"};
if(vErrors === null){
vErrors = [err221];
}
else {
vErrors.push(err221);
}
errors++;
}
}
if(data134.podInformer !== undefined){
let data136 = data134.podInformer;
if(!((data136 === "auto") || (data136 === "off"))){
const err222 = {instancePath:instancePath+"/kubernetes/podInformer",schemaPath:"#/properties/kubernetes/properties/podInformer/enum",keyword:"enum",params:{allowedValues: schema11.properties.kubernetes.properties.podInformer.enum},message:"must be equal to one of the allowed values"};
if(vErrors === null){
vErrors = [err222];
}
else {
vErrors.push(err222);
}
errors++;
}
}
if(data134.events !== undefined){
if(typeof data134.events !== "boolean"){
const err223 = {instancePath:instancePath+"/kubernetes/events",schemaPath:"#/properties/kubernetes/properties/events/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
if(vErrors === null){
vErrors = [err223];
}
else {
vErrors.push(err223);
}
errors++;
}
}
if(data134.imageWatches !== undefined){
let data138 = data134.imageWatches;
if(!((data138 === "auto") || (data138 === "off"))){
const err224 = {instancePath:instancePath+"/kubernetes/imageWatches",schemaPath:"#/properties/kubernetes/properties/imageWatches/enum",keyword:"enum",params:{allowedValues: schema11.properties.kubernetes.properties.imageWatches.enum},message:"must be equal to one of the allowed values"};
if(vErrors === null){
vErrors = [err224];
}
else {
vErrors.push(err224);
}
errors++;
}
}
}
else {
const err225 = {instancePath:instancePath+"/kubernetes",schemaPath:"#/properties/kubernetes/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err225];
}
else {
vErrors.push(err225);
}
errors++;
}
}
}
else {
const err226 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: "object"},message:"must be object"};
if(vErrors === null){
vErrors = [err226];
}
else {
vErrors.push(err226);
}
errors++;
}
validate10.errors = vErrors;
return errors === 0;
}

