#!/usr/bin/env node
console.log('tend: work in progress');
